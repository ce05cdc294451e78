using Handoff.Grains;

namespace Handoff.Storage.Tests;

/// <summary>A counter kept in the "handoff" grain storage.</summary>
[Alias("handoff.storage.tests.counter")]
public interface ICounterGrain : IGrainWithStringKey
{
    [Alias("add")]
    Task<int> AddAsync(int amount);

    [Alias("get")]
    Task<int> GetAsync();

    /// <summary>An id of this activation, to tell a fresh activation from the old one.</summary>
    [Alias("activation")]
    Task<Guid> ActivationAsync();

    [Alias("deactivate")]
    Task DeactivateAsync();
}

/// <summary>The persisted value of a <see cref="ICounterGrain"/>.</summary>
[GenerateSerializer, Alias("handoff.storage.tests.counter-state")]
public sealed class CounterState
{
    [Id(0)]
    public int Value { get; set; }
}

/// <summary>Keeps its value in the storage the hub's durable grains use.</summary>
public sealed class CounterGrain(
    [PersistentState("counter", HandoffOptions.StorageName)] IPersistentState<CounterState> state) : Grain, ICounterGrain
{
    private readonly Guid _activation = Guid.NewGuid();

    public async Task<int> AddAsync(int amount)
    {
        state.State.Value += amount;
        await state.WriteStateAsync();
        return state.State.Value;
    }

    public Task<int> GetAsync() => Task.FromResult(state.State.Value);

    public Task<Guid> ActivationAsync() => Task.FromResult(_activation);

    public Task DeactivateAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

/// <summary>Registers a short reminder and counts its ticks.</summary>
[Alias("handoff.storage.tests.reminder-probe")]
public interface IReminderProbeGrain : IGrainWithStringKey
{
    [Alias("start")]
    Task StartAsync(string name, TimeSpan period);

    [Alias("ticks")]
    Task<int> TicksAsync();

    [Alias("list")]
    Task<string[]> ListAsync();

    [Alias("stop")]
    Task StopAsync(string name);
}

/// <summary>Counts the ticks of its reminders in memory; the reminders themselves live in the table.</summary>
public sealed class ReminderProbeGrain : Grain, IReminderProbeGrain, IRemindable
{
    private int _ticks;

    public async Task StartAsync(string name, TimeSpan period) =>
        await this.RegisterOrUpdateReminder(name, period, period);

    public Task<int> TicksAsync() => Task.FromResult(_ticks);

    public async Task<string[]> ListAsync() =>
        [.. (await this.GetReminders()).Select(r => r.ReminderName).Order(StringComparer.Ordinal)];

    public async Task StopAsync(string name)
    {
        var reminder = await this.GetReminder(name)
            ?? throw new InvalidOperationException($"reminder '{name}' of {this.GetPrimaryKeyString()} is not registered");
        await this.UnregisterReminder(reminder);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        _ticks++;
        return Task.CompletedTask;
    }
}
