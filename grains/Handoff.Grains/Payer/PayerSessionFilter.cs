using Handoff.Contracts;
using Handoff.Contracts.Security;

namespace Handoff.Grains.Payer;

/// <summary>
/// Every call a payer silo makes to a household grain carries the session of one of its own devices: the
/// device whose payment program is calling, or the silo's first device for its own services (reminders).
/// A credential that arrived with an incoming call (another device's) is never passed on.
/// </summary>
public sealed class PayerSessionFilter(DeviceSessions sessions, KeyRingSigner keys) : IOutgoingGrainCallFilter
{
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        var method = context.InterfaceMethod;
        if (!context.TargetId.IsClient()
            && method.DeclaringType?.Namespace?.StartsWith("Handoff.", StringComparison.Ordinal) == true
            && !method.IsDefined(typeof(NoSessionAttribute), inherit: true))
        {
            var current = RequestContext.Get(CallerContext.SessionKey) as string;
            var device = context.SourceId is { } source && keys.Holds(source.Key.ToString()!) ? source.Key.ToString()!
                : keys.DeviceIds.FirstOrDefault(id => sessions.IsCurrent(id, current)) ?? keys.DeviceIds[0];
            if (!sessions.IsCurrent(device, current))
            {
                try
                {
                    CallerContext.UseSession(await sessions.TokenAsync(device));
                }
                catch (ForbiddenException)
                {
                    // Not paired yet: the call goes without a credential, and the hub says what it refuses.
                    RequestContext.Remove(CallerContext.SessionKey);
                }
            }
        }

        await context.Invoke();
    }
}
