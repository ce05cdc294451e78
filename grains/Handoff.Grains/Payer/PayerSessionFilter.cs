using System.Collections.Concurrent;
using System.Reflection;
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
    private static readonly ConcurrentDictionary<MethodInfo, bool> Rules = new();

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (!context.TargetId.IsClient() && NeedsSession(context.InterfaceMethod))
        {
            var current = RequestContext.Get(CallerContext.SessionKey) as string;
            var device = context.SourceId is { } source && keys.Holds(source.Key.ToString()!) ? source.Key.ToString()!
                : sessions.DeviceOf(current) ?? keys.DeviceIds[0];
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

    // Read once per method: attributes are reflection, and this runs on every call the payer silo makes.
    private static bool NeedsSession(MethodInfo method) => Rules.GetOrAdd(method, static method =>
        method.DeclaringType?.Namespace?.StartsWith("Handoff.", StringComparison.Ordinal) == true
        && !method.IsDefined(typeof(NoSessionAttribute), inherit: true));
}
