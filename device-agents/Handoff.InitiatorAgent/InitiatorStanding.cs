using Handoff.Contracts;

namespace Handoff.InitiatorAgent;

/// <summary>
/// Whether the household took this device: <see cref="Registered"/> once it is paired and present,
/// <see cref="Refused"/> with the household's reason when it is not paired (or no longer is). The agent's
/// runner waits for one of them before it says it is ready, and stops on a refusal.
/// </summary>
public sealed class InitiatorStanding
{
    private readonly TaskCompletionSource _registered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<HandoffException> _refused = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Registered => _registered.Task;

    public Task<HandoffException> Refused => _refused.Task;

    internal void MarkRegistered() => _registered.TrySetResult();

    internal void MarkRefused(HandoffException reason) => _refused.TrySetResult(reason);
}
