using Handoff.Contracts;
using Handoff.Grains;
using Handoff.Silo.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Handoff.Grains.Tests;

/// <summary>The memory mode's grain store: optimistic concurrency like a durable store, and no shared objects.</summary>
public sealed class HubMemoryStorageTests : IDisposable
{
    private static readonly GrainId Payment = GrainId.Create("payment", "pay-1");
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();
    private readonly HubMemoryStorage _store;

    public HubMemoryStorageTests()
    {
        _store = new HubMemoryStorage(_services.GetRequiredService<Serializer>(), _services.GetRequiredService<IActivatorProvider>());
    }

    [Fact]
    public async Task A_written_state_reads_back_as_a_copy_with_its_etag()
    {
        var written = NewState(PaymentState.Created);
        await _store.WriteStateAsync("payment", Payment, written);
        written.State!.State = PaymentState.Completed;

        var read = new GrainState<PaymentRecord>();
        await _store.ReadStateAsync("payment", Payment, read);

        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal(PaymentState.Created, read.State!.State);
        Assert.Equal("o-1", read.State!.Input!.OrderKey);
    }

    [Fact]
    public async Task A_missing_state_reads_as_a_new_record()
    {
        var read = new GrainState<PaymentRecord>();
        await _store.ReadStateAsync("payment", Payment, read);

        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.NotNull(read.State);
        Assert.False(read.State!.Exists);
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_is_refused_and_changes_nothing()
    {
        var first = NewState(PaymentState.Created);
        await _store.WriteStateAsync("payment", Payment, first);
        var other = new GrainState<PaymentRecord>();
        await _store.ReadStateAsync("payment", Payment, other);
        other.State!.State = PaymentState.Offered;
        await _store.WriteStateAsync("payment", Payment, other);

        first.State!.State = PaymentState.Cancelled;
        await Assert.ThrowsAsync<InconsistentStateException>(() => _store.WriteStateAsync("payment", Payment, first));

        // A second "first write" of the same grain is a conflict too.
        await Assert.ThrowsAsync<InconsistentStateException>(() => _store.WriteStateAsync("payment", Payment, NewState(PaymentState.Created)));

        var read = new GrainState<PaymentRecord>();
        await _store.ReadStateAsync("payment", Payment, read);
        Assert.Equal(PaymentState.Offered, read.State!.State);
        Assert.Equal(other.ETag, read.ETag);
    }

    [Fact]
    public async Task Clear_removes_the_state_only_with_the_current_etag()
    {
        var state = NewState(PaymentState.Created);
        await _store.WriteStateAsync("payment", Payment, state);
        var stale = new GrainState<PaymentRecord> { ETag = "0" };

        await Assert.ThrowsAsync<InconsistentStateException>(() => _store.ClearStateAsync("payment", Payment, stale));
        Assert.Equal(1, _store.Count);

        await _store.ClearStateAsync("payment", Payment, state);
        Assert.Equal(0, _store.Count);
        Assert.Null(state.ETag);
        Assert.False(state.RecordExists);
    }

    public void Dispose() => _services.Dispose();

    private static GrainState<PaymentRecord> NewState(PaymentState state) => new(new PaymentRecord
    {
        Input = new PaymentRequestInput("home", "tv-1", "phone-1", "o-1", new PaymentInfo(12.50m, "CNY", "Tea House"), null),
        State = state,
    });
}
