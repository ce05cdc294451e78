using Handoff.Contracts.Hosting;
using Handoff.Contracts.Security;
using Handoff.Grains.Payer;
using Handoff.Grains.Placement;
using Handoff.Grains.Reminders;
using Handoff.Grains.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;
using Orleans.Hosting;

namespace Handoff.Grains.Hosting;

/// <summary>Registers the household's grains on a silo, by role: heterogeneous silos keep durable grains off devices.</summary>
public static class HandoffGrainsExtensions
{
    /// <summary>The grain classes that live only where the durable store is: never on a phone or a TV.</summary>
    public static IReadOnlyList<Type> HubOnlyGrainClasses { get; } =
        [typeof(DeviceGrain), typeof(HouseholdGrain), typeof(PaymentRequestGrain), typeof(LedgerGrain), typeof(PaymentProgramsGrain), typeof(HouseholdMembersGrain), typeof(HouseholdRulesGrain), typeof(ReminderStoreGrain), typeof(Telemetry.TraceCollectorGrain)];

    /// <summary>Grain addresses each silo caches (Orleans' default: 1,000,000).</summary>
    public const int DirectoryCacheSize = 100_000;

    /// <summary>Services every household silo needs: options, placement, presence.</summary>
    public static IServiceCollection AddHandoffCore(this IServiceCollection services)
    {
        services.AddOptions<HandoffOptions>()
            .BindConfiguration(HandoffOptions.Section)
            .Validate(options => options.Problem() is null, "invalid Handoff options")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddGrainInterfaceTypeCache();
        services.TryAddSingleton<PayerSiloLocator>();
        services.TryAddSingleton<FaultPoints>();
        services.TryAddSingleton<AdminToken>();
        services.AddOptions<ReminderOptions>().Configure(reminders =>
        {
            // MinimumReminderPeriod stays Orleans' minute (lowering it only makes every silo warn at start): it bounds
            // registrations through Orleans' API, and the payments' recovery rows, at Handoff:RecoveryInterval, are
            // written straight into the table (ReminderRowWriter), which the reminder service runs at their own period.
            // Orleans drops an unregistered reminder's in-memory entry only when it re-reads the table (default
            // every 5 minutes); every payment has a reminder, so a busy hub would hold minutes of dead entries.
            reminders.RefreshReminderListPeriod = TimeSpan.FromMinutes(1);
        });
        services.AddPlacementDirector<DeviceAffinityPlacement, DeviceAffinityPlacementDirector>();

        // Every payment is a grain used for a minute or two; Orleans' default directory cache keeps the addresses
        // of up to 1,000,000 of them (about 300 MB) long after they are gone. A household needs far fewer.
        services.Configure<GrainDirectoryOptions>(directory => directory.CacheSize = DirectoryCacheSize);
        return services;
    }

    /// <summary>
    /// A hub silo: hosts the durable grains. It also registers the payment-ability class, so that a
    /// household whose phones are all away still resolves the grain type and gets a clear "payer
    /// offline" from placement; the hub carries no device, so placement never chooses it.
    /// </summary>
    public static IServiceCollection AddHandoffHubGrains(this IServiceCollection services)
    {
        services.AddHandoffCore();
        services.TryAddSingleton<SessionAuthority>();
        services.AddSingleton<IIncomingGrainCallFilter, CallerProofFilter>();
        services.AddSingleton<IOutgoingGrainCallFilter, AuthorityStampFilter>();
        services.TryAddSingleton<ReminderRowWriter>();
        services.TryAddSingleton<EndedReminderRows>();
        services.AddHostedService(provider => provider.GetRequiredService<EndedReminderRows>());
        return services;
    }

    /// <summary>
    /// A payer silo: hosts the devices' payment programs and their local sheet, no durable grain. Orleans
    /// spreads reminders over every silo, so it runs the reminder service too, against the hub's table.
    /// </summary>
    public static IServiceCollection AddHandoffPayerGrains(this IServiceCollection services)
    {
        services.AddHandoffCore();
        services.AddReminders();
        services.TryAddSingleton<IReminderTable, HubReminderTable>();
        services.Configure<GrainTypeOptions>(options =>
        {
            foreach (var hubOnly in HubOnlyGrainClasses)
            {
                options.Classes.Remove(hubOnly);
            }
        });
        services.TryAddSingleton<PaymentSheetBoard>();
        services.TryAddSingleton<IPaymentSheet>(provider => provider.GetRequiredService<PaymentSheetBoard>());
        services.TryAddSingleton<PinVault>();
        services.TryAddSingleton<IUserVerifier>(provider => provider.GetRequiredService<PinVault>());
        services.TryAddSingleton<KeyRingSigner>();
        services.TryAddSingleton<IDeviceSigner>(provider => provider.GetRequiredService<KeyRingSigner>());
        services.TryAddSingleton<DeviceSessions>();
        services.TryAddSingleton<PayerVerification>();
        services.TryAddSingleton<PlatformCredentials>();
        services.AddSingleton<IOutgoingGrainCallFilter, PayerSessionFilter>();
        return services;
    }
}
