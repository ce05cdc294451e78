using System.Collections.Concurrent;
using System.Reflection;
using Handoff.Contracts;
using Handoff.Contracts.Security;

namespace Handoff.Grains.Security;

/// <summary>
/// Every call a hub silo receives for a household grain proves its caller, whoever sent it: a client on the
/// gateway, a device's silo or another hub. The caller's household and device are set from the session
/// credential it sent, checked here; whatever it wrote into the request context itself is thrown away.
/// A call without a valid credential is refused unless its method is <see cref="NoSessionAttribute"/>;
/// an <see cref="AuthorityOnlyAttribute"/> method is refused unless a hub silo made the call.
/// </summary>
public sealed class CallerProofFilter(SessionAuthority sessions) : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, Rule> Rules = new();

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        var rule = RuleOf(context.InterfaceMethod);
        if (rule == Rule.NotHandoff)
        {
            await context.Invoke();
            return;
        }

        if (rule == Rule.SilosOnly && context.SourceId is { } source && source.IsClient())
        {
            throw new ForbiddenException($"{context.InterfaceMethod.DeclaringType?.Name}.{context.InterfaceMethod.Name} is for the household's silos only");
        }

        var session = RequestContext.Get(CallerContext.SessionKey) as string;
        var authority = RequestContext.Get(CallerContext.AuthorityKey) is string stamp && sessions.IsAuthority(stamp, context.TargetId);

        // The stamp was for this call only, and whatever a caller wrote as its own verified identity goes.
        RequestContext.Remove(CallerContext.AuthorityKey);
        if (!authority && rule == Rule.AuthorityOnly)
        {
            throw new ForbiddenException($"{context.InterfaceMethod.Name} is for the payment's authority only");
        }

        if (session is not null && rule != Rule.NoSession)
        {
            var (household, device) = sessions.Verify(session);
            RequestContext.Set(CallerContext.CallerKey, new VerifiedCaller(household, device, authority));
        }
        else if (authority)
        {
            RequestContext.Set(CallerContext.CallerKey, new VerifiedCaller(null, null, FromAuthority: true));
        }
        else if (rule != Rule.NoSession)
        {
            throw new ForbiddenException($"{context.InterfaceMethod.DeclaringType?.Name}.{context.InterfaceMethod.Name} needs a session credential: a device opens one with its key");
        }
        else
        {
            RequestContext.Remove(CallerContext.CallerKey);
        }

        await context.Invoke();
    }

    private static Rule RuleOf(MethodInfo method) => Rules.GetOrAdd(method, static method =>
        method.DeclaringType?.Namespace?.StartsWith("Handoff.", StringComparison.Ordinal) != true ? Rule.NotHandoff
        : method.IsDefined(typeof(AuthorityOnlyAttribute), inherit: true) ? Rule.AuthorityOnly
        : method.IsDefined(typeof(NoSessionAttribute), inherit: true) ? Rule.NoSession
        : method.DeclaringType.IsDefined(typeof(SilosOnlyAttribute), inherit: false) ? Rule.SilosOnly
        : Rule.Session);

    private enum Rule
    {
        NotHandoff,
        Session,
        NoSession,
        AuthorityOnly,

        /// <summary>A session is needed too, and the call must come from a silo, not a client.</summary>
        SilosOnly,
    }
}

/// <summary>
/// Stamps every call a hub silo makes to a household grain with the hub's authority token, bound to the grain
/// it goes to: the grains it calls know the hub itself is asking (a charge, an offer, a recovery step).
/// </summary>
public sealed class AuthorityStampFilter(SessionAuthority sessions) : IOutgoingGrainCallFilter
{
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        // Async, so the stamp stays on this call and never flows back into the caller's context.
        if (!context.TargetId.IsClient())
        {
            RequestContext.Set(CallerContext.AuthorityKey, sessions.AuthorityToken(context.TargetId));
        }

        await context.Invoke();
    }
}
