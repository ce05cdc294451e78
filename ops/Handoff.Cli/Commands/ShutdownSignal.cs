using System.Runtime.InteropServices;

namespace Handoff.Cli.Commands;

/// <summary>A token that fires on Ctrl+C (SIGINT), SIGTERM or the command line's own cancellation.</summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly PosixSignalRegistration[] _registrations;

    public ShutdownSignal(CancellationToken cancellation)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
        ];
    }

    public CancellationToken Token => _source.Token;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _source.Dispose();
    }

    private void Handle(PosixSignalContext context)
    {
        // Keep the process alive: the command stops its children and exits by itself.
        context.Cancel = true;
        _source.Cancel();
    }
}
