using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Handoff.Contracts;
using Handoff.Contracts.Hosting;
using Handoff.Contracts.Security;
using Handoff.Contracts.Validation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Handoff.Sdk;

/// <summary>
/// The SDK a target app embeds: lists the household's payer devices, hands a payment off to one of
/// them, and follows it to its outcome. Every call is made as <see cref="DeviceId"/>.
/// </summary>
public sealed class HandoffClient : IAsyncDisposable
{
    private static readonly TimeSpan WatchRefresh = TimeSpan.FromSeconds(15);
    private readonly IClusterClient _cluster;
    private readonly IHost? _ownedHost;

    // One set of sessions per connection and key ring, shared by every client made over them (tests and apps
    // often make a client per call): a device opens its session once, not per client.
    private static readonly ConditionalWeakTable<IClusterClient, ConditionalWeakTable<IDeviceSigner, DeviceSessions>> SharedSessions = new();

    private readonly IDeviceSigner? _signer;
    private readonly DeviceSessions? _sessions;
    private readonly AdminSession? _admin;

    // Where the key was looked for when none was found: the error of a request that needs it says so.
    private readonly string? _keysFolder;

    /// <summary>Wraps a cluster client the app already runs; <paramref name="signer"/> holds this device's key.</summary>
    public HandoffClient(IClusterClient cluster, string householdId, string deviceId, IDeviceSigner? signer = null)
        : this(cluster, householdId, deviceId, signer, admin: null, ownedHost: null)
    {
    }

    private HandoffClient(IClusterClient cluster, string householdId, string deviceId, IDeviceSigner? signer, AdminSession? admin, IHost? ownedHost, string? keysFolder = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(householdId);
        ArgumentException.ThrowIfNullOrWhiteSpace(deviceId);
        _cluster = cluster;
        HouseholdId = householdId;
        DeviceId = deviceId;
        _signer = signer;
        _sessions = signer is null ? null : SharedSessions.GetOrCreateValue(cluster).GetValue(signer, key => new DeviceSessions(cluster, key, TimeProvider.System));
        _admin = admin;
        _ownedHost = ownedHost;
        _keysFolder = keysFolder;
    }

    public string HouseholdId { get; }

    public string DeviceId { get; }

    /// <summary>The same connection, acting as another device of the household.</summary>
    public HandoffClient As(string deviceId, IDeviceSigner? signer = null) =>
        new(_cluster, HouseholdId, deviceId, signer ?? _signer, admin: null, ownedHost: null, deviceId == DeviceId ? _keysFolder : null);

    /// <summary>
    /// The same connection, acting as the household's administrator: reads every device and payment of the household
    /// with a session the hub's admin token opens. Requests, approvals and cancellations still need a device's key.
    /// </summary>
    public HandoffClient AsAdmin(string adminToken) =>
        new(_cluster, HouseholdId, Households.AdminDevice, _signer, new AdminSession(_cluster, HouseholdId, adminToken), ownedHost: null);

    /// <summary>Connects to the household's gateways, or fails with <see cref="ErrorCodes.Unavailable"/>.</summary>
    public static async Task<HandoffClient> ConnectAsync(HandoffClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.DeviceId))
        {
            throw new ValidationException("deviceId", "is required to connect");
        }

        var gateways = options.Clustering is null ? options.Gateways.Select(HandoffClientOptions.ParseEndpoint).ToArray() : [];
        var (signer, keysFolder) = options.Signer is { } given ? (given, null) : DefaultSigner(options);
        if (gateways.Length > 0)
        {
            await GatewayProbe.RequireListeningAsync(gateways, cancellationToken);
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client =>
        {
            if (options.Clustering is { } clustering)
            {
                clustering(client);
            }
            else
            {
                client.UseStaticClustering(gateways);
            }

            client.Configure<ClusterOptions>(cluster =>
            {
                cluster.ClusterId = options.ClusterId ?? Households.ClusterIdOf(options.HouseholdId);
                cluster.ServiceId = Households.ServiceId;
            });
            HouseholdTls.Apply(client, options.Certificate);
            client.Services.AddGrainInterfaceTypeCache();
            options.ConfigureClient?.Invoke(client);
            client.UseConnectionRetryFilter(async (exception, token) =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), token);
                return true;
            });
        });
        var host = builder.Build();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            await host.StartAsync(timeout.Token);
        }
        catch (Exception exception) when (exception is not HandoffException)
        {
            host.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            throw new HandoffException(
                ErrorCodes.Unavailable,
                $"cannot reach the household gateway at {(options.Clustering is null ? string.Join(", ", options.Gateways) : "the cluster's gateways")} within {options.ConnectTimeout.TotalSeconds:0}s; is the hub running?",
                exception);
        }

        var cluster = host.Services.GetRequiredService<IClusterClient>();
        var admin = options.AdminToken is { } token ? new AdminSession(cluster, options.HouseholdId, token) : null;
        return new HandoffClient(cluster, options.HouseholdId, admin is null ? options.DeviceId : Households.AdminDevice, signer, admin, host, keysFolder);
    }

    /// <summary>The device's key from its key file when there is one; otherwise no signer, and the folder looked in.</summary>
    private static (IDeviceSigner? Signer, string? KeysFolder) DefaultSigner(HandoffClientOptions options)
    {
        var folder = options.KeysFolder is { Length: > 0 } configured ? Path.GetFullPath(configured) : DataFolder.ResolveKeys();
        if (!DeviceIds.IsValid(options.DeviceId) || !DeviceKeyFile.Exists(folder, options.DeviceId))
        {
            return (null, folder);
        }

        var signer = new KeyRingSigner();
        signer.Add(options.DeviceId, DeviceKeyFile.Load(folder, options.DeviceId));
        return (signer, null);
    }

    /// <summary>Joins the household as this device with a pairing code, sending only the public half of its key.</summary>
    public Task<DeviceStatus> PairAsync(string code, string displayName, DeviceKind kind, DeviceRole role, byte[] publicKey)
    {
        var registration = new DeviceRegistration(
            DeviceId,
            HouseholdId,
            displayName,
            kind,
            role,
            role == DeviceRole.Payer ? DeviceCapabilities.Payer : DeviceCapabilities.Initiator);
        return _cluster.GetGrain<IHouseholdGrain>(HouseholdId).PairDeviceAsync(code, registration, publicKey);
    }

    /// <summary>A new one-time pairing code for the household (needs the hub's admin token).</summary>
    public Task<PairingCode> CreatePairingCodeAsync(string adminToken)
    {
        return _cluster.GetGrain<IHouseholdGrain>(HouseholdId).CreatePairingCodeAsync(adminToken);
    }

    /// <summary>Renames a device of the household (needs the hub's admin token).</summary>
    public Task<DeviceStatus> RenameDeviceAsync(string adminToken, string deviceId, string displayName)
    {
        return _cluster.GetGrain<IHouseholdGrain>(HouseholdId).RenameDeviceAsync(adminToken, deviceId, displayName);
    }

    /// <summary>Removes a device from the household: it can do nothing any more (needs the hub's admin token).</summary>
    public Task RemoveDeviceAsync(string adminToken, string deviceId)
    {
        return _cluster.GetGrain<IHouseholdGrain>(HouseholdId).RemoveDeviceAsync(adminToken, deviceId);
    }

    /// <summary>The household's payment programs (only <paramref name="deviceId"/>'s when given), with their balances, by device then id.</summary>
    public Task<IReadOnlyList<ProgramStatus>> ListProgramsAsync(string? deviceId = null) =>
        AsCallerAsync(() => Programs.ListAsync(deviceId));

    /// <summary>
    /// Gives a payer device a payment program (needs the hub's admin token): the same program again returns it as it is;
    /// another with an id already used fails with <see cref="ConflictException"/>.
    /// </summary>
    public Task<ProgramStatus> AddProgramAsync(string adminToken, PaymentProgram program)
    {
        return Programs.AddAsync(adminToken, program);
    }

    /// <summary>
    /// Puts <paramref name="amount"/> into a program from the household's funding account (needs the hub's admin token),
    /// once per <paramref name="key"/>: the same key again moves nothing; with another amount it is a <see cref="ConflictException"/>.
    /// </summary>
    public Task<ProgramStatus> TopUpProgramAsync(string adminToken, string programId, decimal amount, string key)
    {
        return Programs.TopUpAsync(adminToken, programId, amount, key);
    }

    /// <summary>Removes a payment program: no payment can pay with it any more; its ledger history stays (needs the hub's admin token).</summary>
    public Task RemoveProgramAsync(string adminToken, string programId)
    {
        return Programs.RemoveAsync(adminToken, programId);
    }

    /// <summary>The household's people, their roles (guardian or member) and whose each device is.</summary>
    public Task<IReadOnlyList<HouseholdMember>> ListMembersAsync() => AsCallerAsync(() => Members.ListAsync());

    /// <summary>
    /// Adds a person to the household (needs the hub's admin token): the same person again returns them as they are;
    /// the same id with another name or role fails with <see cref="ConflictException"/>.
    /// </summary>
    public Task<HouseholdMember> AddMemberAsync(string adminToken, string memberId, string name, MemberRole role) =>
        Members.AddAsync(adminToken, memberId, name, role);

    /// <summary>Changes a person's role (needs the hub's admin token); the last guardian cannot stop being one.</summary>
    public Task<HouseholdMember> SetMemberRoleAsync(string adminToken, string memberId, MemberRole role) =>
        Members.SetRoleAsync(adminToken, memberId, role);

    /// <summary>Gives a device of the household to a person, taking it from whoever had it (needs the hub's admin token).</summary>
    public Task<HouseholdMember> AssignDeviceAsync(string adminToken, string memberId, string deviceId) =>
        Members.AssignAsync(adminToken, memberId, deviceId);

    /// <summary>The household's rules: its time zone, and each member's budgets, guardian merchants and categories.</summary>
    public Task<HouseholdRules> GetRulesAsync() => AsCallerAsync(() => Rules.GetAsync());

    /// <summary>What is left of each member's budget this month (only <paramref name="memberId"/>'s when given).</summary>
    public Task<IReadOnlyList<BudgetStatus>> ListBudgetsAsync(string? memberId = null) => AsCallerAsync(() => Rules.ListBudgetsAsync(memberId));

    /// <summary>
    /// Sets a member's rules, replacing what they had (needs the hub's admin token: no member's device can change its own):
    /// budgets per currency from a program, a ceiling per payment, merchants and categories that always need a guardian.
    /// </summary>
    public Task<MemberRules> SetRulesAsync(string adminToken, MemberRules rules) => Rules.SetAsync(adminToken, rules);

    /// <summary>Sets the household's time zone (an IANA id such as <c>Asia/Shanghai</c>; needs the hub's admin token): budgets refill at its midnight on the 1st.</summary>
    public Task<string> SetTimeZoneAsync(string adminToken, string timeZone) => Rules.SetTimeZoneAsync(adminToken, timeZone);

    /// <summary>Tells the household this device is present.</summary>
    public Task HeartbeatAsync() => AsCallerAsync(async () =>
    {
        await _cluster.GetGrain<IDeviceGrain>(DeviceId).HeartbeatAsync();
        return true;
    });

    /// <summary>Every device of the household with its capabilities and whether it is online.</summary>
    public Task<IReadOnlyList<DeviceStatus>> ListDevicesAsync() =>
        AsCallerAsync(() => _cluster.GetGrain<IHouseholdGrain>(HouseholdId).ListDevicesAsync());

    /// <summary>The household's payer devices: the ones a payment can be handed to.</summary>
    public async Task<IReadOnlyList<DeviceStatus>> ListPayerDevicesAsync() =>
        [.. (await ListDevicesAsync()).Where(device => device.Role == DeviceRole.Payer)];

    /// <summary>Ids of the household's most recent payments, newest first.</summary>
    public Task<IReadOnlyList<string>> RecentPaymentsAsync(int count = 20) =>
        AsCallerAsync(() => _cluster.GetGrain<IHouseholdGrain>(HouseholdId).RecentPaymentsAsync(count));

    /// <summary>The household's ledger at a glance (balances, number of entries).</summary>
    public Task<LedgerSummary> GetLedgerSummaryAsync() =>
        AsCallerAsync(() => _cluster.GetGrain<ILedgerGrain>(HouseholdId).GetSummaryAsync());

    /// <summary>Up to <paramref name="limit"/> ledger entries numbered above <paramref name="afterSequence"/>, in order.</summary>
    public Task<IReadOnlyList<LedgerEntry>> GetLedgerEntriesAsync(long afterSequence, int limit) =>
        AsCallerAsync(() => _cluster.GetGrain<ILedgerGrain>(HouseholdId).GetEntriesAsync(afterSequence, limit));

    /// <summary>The ledger's charge of <paramref name="paymentId"/>, or null.</summary>
    public Task<LedgerEntry?> GetChargeAsync(string paymentId) =>
        AsCallerAsync(() => _cluster.GetGrain<ILedgerGrain>(HouseholdId).GetChargeAsync(paymentId));

    /// <summary>Runs <paramref name="call"/> as this client's caller: a grain call made under its session.</summary>
    public Task<T> CallAsync<T>(Func<IGrainFactory, Task<T>> call) => AsCallerAsync(() => call(_cluster));

    /// <summary>
    /// Hands a payment off to <paramref name="payerDeviceId"/>: one payer device, several separated by commas
    /// (<c>"phone-1,watch-1"</c>) or <see cref="PayerChoice.Any"/>; every one online shows the sheet and the first
    /// verified approval pays. The same <paramref name="orderKey"/> with the same content returns the same payment;
    /// with other content it fails with <see cref="ConflictException"/>.
    /// </summary>
    public Task<PaymentSnapshot> RequestPaymentAsync(PaymentInfo info, string payerDeviceId, string? orderKey = null, TimeSpan? expiresIn = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        PaymentRules.Check(info);
        PayerChoice.Named(payerDeviceId);
        orderKey ??= Guid.NewGuid().ToString("n");
        var input = new PaymentRequestInput(HouseholdId, DeviceId, payerDeviceId, orderKey, info, expiresIn);
        input = input with { Signature = Sign(Signing.Request(input)) };
        return AsCallerAsync(() => Payment(PaymentIds.For(HouseholdId, DeviceId, orderKey)).CreateAsync(input));
    }

    /// <summary>Hands a payment off to several payer devices at once: the first to approve pays (none: <c>any</c>).</summary>
    public Task<PaymentSnapshot> RequestPaymentAsync(PaymentInfo info, IEnumerable<string> payerDeviceIds, string? orderKey = null, TimeSpan? expiresIn = null) =>
        RequestPaymentAsync(info, PayerChoice.Of(payerDeviceIds), orderKey, expiresIn);

    /// <summary>
    /// Gives back <paramref name="amount"/> of a completed payment this device asked for (null: all that is left), to the
    /// payer device that paid. The same <paramref name="refundKey"/> again is the same refund (with another amount, a
    /// <see cref="ConflictException"/>); never more in total than was charged (<see cref="OverRefundException"/>).
    /// Returns the payment once the ledger booked the refund.
    /// </summary>
    public Task<PaymentSnapshot> RefundAsync(string paymentId, decimal? amount = null, string? refundKey = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(paymentId);
        refundKey ??= Guid.NewGuid().ToString("n");
        var signature = Sign(Signing.Refund(paymentId, DeviceId, refundKey, amount));
        return AsCallerAsync(() => Payment(paymentId).RefundAsync(new RefundInput(paymentId, DeviceId, refundKey, amount, signature)));
    }

    /// <summary>The payment as it stands.</summary>
    public Task<PaymentSnapshot> GetPaymentAsync(string paymentId) => AsCallerAsync(() => Payment(paymentId).GetAsync());

    /// <summary>Cancels the payment from this device (initiator or payer) before it is authorized.</summary>
    public Task<PaymentSnapshot> CancelAsync(string paymentId)
    {
        var signature = Sign(Signing.Cancel(paymentId, DeviceId));
        return AsCallerAsync(() => Payment(paymentId).CancelAsync(DeviceId, signature));
    }

    /// <summary>The payment now, then every change as it happens, ending with its terminal state.</summary>
    public async IAsyncEnumerable<PaymentSnapshot> WatchAsync(string paymentId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var updates = Channel.CreateUnbounded<PaymentSnapshot>();
        // Orleans holds a client object only weakly: this local keeps it alive while the watch runs.
        var target = new Observer(updates.Writer);
        var observer = _cluster.CreateObjectReference<IPaymentObserver>(target);
        var grain = Payment(paymentId);
        PaymentSnapshot? last = null;
        try
        {
            // A call the hub holds (frozen, or restarting) must not hold a watch its caller has stopped.
            last = await AsCallerAsync(() => grain.SubscribeAsync(observer)).WaitAsync(cancellationToken);
            yield return last;
            while (!last.IsTerminal)
            {
                // Pushes may arrive out of order or not at all; each carries the whole history, so every
                // transition is replayed in order and a stale push is dropped.
                var next = await NextAsync(updates.Reader, () => AsCallerAsync(() => grain.SubscribeAsync(observer)), cancellationToken);
                if (next.IsTerminal)
                {
                    // A push is a hint, never the outcome: any caller that learned this observer could send one. The
                    // end is read from the payment's authority itself.
                    next = await AsCallerAsync(() => grain.GetAsync()).WaitAsync(cancellationToken);
                }

                for (var version = last.Version + 1; version <= next.Version; version++)
                {
                    yield return next.AsOf(version);
                }

                last = next.Version > last.Version ? next : last;
            }
        }
        finally
        {
            GC.KeepAlive(target);
            _cluster.DeleteObjectReference<IPaymentObserver>(observer);

            // An ended payment has already forgotten its observers; only a watch stopped early says goodbye, without
            // waiting for the answer (a hub that holds the call would hold the caller; the subscription lapses anyway).
            if (last is not { IsTerminal: true })
            {
                _ = AsCallerAsync(async () =>
                {
                    await grain.UnsubscribeAsync(observer);
                    return true;
                }).ContinueWith(static _ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Waits for the payment to end: returns it when Completed, throws the typed error otherwise.</summary>
    public async Task<PaymentSnapshot> AwaitOutcomeAsync(string paymentId, CancellationToken cancellationToken = default)
    {
        PaymentSnapshot? last = null;
        await foreach (var snapshot in WatchAsync(paymentId, cancellationToken))
        {
            last = snapshot;
        }

        return last is { State: PaymentState.Completed }
            ? last
            : throw PaymentNotCompletedException.For(last!);
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownedHost is not null)
        {
            try
            {
                await _ownedHost.StopAsync(TimeSpan.FromSeconds(5));
            }
            finally
            {
                _ownedHost.Dispose();
            }
        }
    }

    private static async Task<PaymentSnapshot> NextAsync(
        ChannelReader<PaymentSnapshot> updates,
        Func<Task<PaymentSnapshot>> resubscribe,
        CancellationToken cancellationToken)
    {
        using var refresh = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        refresh.CancelAfter(WatchRefresh);
        try
        {
            return await updates.ReadAsync(refresh.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Quiet for a while: renew the subscription (it expires on the grain) and re-read the state in case a push was lost.
            return await resubscribe().WaitAsync(cancellationToken);
        }
    }

    private IPaymentRequestGrain Payment(string paymentId) => _cluster.GetGrain<IPaymentRequestGrain>(paymentId);

    private IPaymentProgramsGrain Programs => _cluster.GetGrain<IPaymentProgramsGrain>(HouseholdId);

    private IHouseholdMembersGrain Members => _cluster.GetGrain<IHouseholdMembersGrain>(HouseholdId);

    private IHouseholdRulesGrain Rules => _cluster.GetGrain<IHouseholdRulesGrain>(HouseholdId);

    /// <summary>
    /// Makes <paramref name="call"/> under this client's session: the administrator's (admin token) or the device's
    /// (its key). Without either the household would refuse it; say so here rather than send it.
    /// </summary>
    private Task<T> AsCallerAsync<T>(Func<Task<T>> call) =>
        _admin is not null ? _admin.CallAsync(call)
        : _sessions is not null && _sessions.Holds(DeviceId) ? _sessions.CallAsync(DeviceId, call)
        : throw new ForbiddenException($"no key for device '{DeviceId}' here: a device proves itself with its key (see DeviceKeyFile), the administrator with the hub's admin token");

    // Without this device's key the household refuses the request; say so here rather than send it unsigned.
    private byte[] Sign(byte[] statement) =>
        _signer is not null && _signer.Holds(DeviceId)
            ? _signer.Sign(DeviceId, statement)
            : throw new ForbiddenException(_keysFolder is null
                ? $"no key for device '{DeviceId}' here: requests must be signed by a paired device"
                : $"no key for device '{DeviceId}' in {_keysFolder} (no {DeviceId}.key): requests must be signed by a paired device; set HandoffClientOptions.KeysFolder or HANDOFF_KEYS to the folder that has its key");

    /// <summary>The administrator's session: opened with the admin token, opened again when the hub no longer takes it.</summary>
    private sealed class AdminSession(IGrainFactory grains, string householdId, string adminToken)
    {
        private Task<SessionGrant>? _grant;

        public async Task<T> CallAsync<T>(Func<Task<T>> call)
        {
            try
            {
                return await CallOnceAsync(call);
            }
            catch (SessionExpiredException)
            {
                _grant = null;
                return await CallOnceAsync(call);
            }
        }

        private async Task<T> CallOnceAsync<T>(Func<Task<T>> call)
        {
            var grant = _grant ??= grains.GetGrain<IHouseholdGrain>(householdId).OpenAdminSessionAsync(adminToken);
            SessionGrant current;
            try
            {
                current = await grant;
            }
            catch
            {
                _ = Interlocked.CompareExchange(ref _grant, null, grant);
                throw;
            }

            CallerContext.UseSession(current.Token);
            return await call();
        }
    }

    private sealed class Observer(ChannelWriter<PaymentSnapshot> writer) : IPaymentObserver
    {
        public Task OnPaymentUpdatedAsync(PaymentSnapshot payment)
        {
            writer.TryWrite(payment);
            return Task.CompletedTask;
        }
    }
}
