using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Handoff.LocalApi;
using Handoff.Sdk.Wire;

namespace Handoff.Cli.Chaos;

/// <summary>
/// An agent's answer: <see cref="Ok"/> with its body, <see cref="Refused"/> for good with an error code, or neither
/// (<see cref="Unknown"/>): the agent, or the hub behind it, did not say, and what was asked may or may not have happened.
/// </summary>
internal sealed record AgentAnswer(HttpStatusCode? Status, JsonElement Body, string? Code, string Problem)
{
    public bool Ok => Status is HttpStatusCode.OK or HttpStatusCode.Created;

    public bool Refused => Code is not null && Status is HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.Conflict or HttpStatusCode.ServiceUnavailable
        && Code != Contracts.ErrorCodes.Unavailable;

    public bool Unknown => !Ok && !Refused;

    public T Read<T>() => Body.Deserialize<T>(HandoffJson.Options)!;

    public override string ToString() => Ok ? $"HTTP {(int)Status!} {Summary()}" : Code is null ? Problem : $"{Code}: {Problem}";

    private string Summary() =>
        Body.ValueKind != JsonValueKind.Object ? string.Empty
        : Body.TryGetProperty("outcome", out var outcome) ? $"{outcome.GetString()}{(Body.TryGetProperty("payment", out var payment) && payment.ValueKind == JsonValueKind.Object ? $", {payment.GetProperty("state").GetString()}" : string.Empty)}"
        : Body.TryGetProperty("state", out var state) ? state.GetString() ?? string.Empty
        : string.Empty;
}

/// <summary>
/// The person's and the app's side of a chaos run: calls to the payer agents' and the TV agent's local APIs, as their
/// pages make them (the agent's own Origin, the launch token it wrote beside the keys, read again for every call since
/// a restarted agent has a new one).
/// </summary>
internal sealed class AgentCalls(ChaosHousehold household, TimeProvider time) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(20) };

    public async Task<AgentAnswer> PostAsync(string process, string path, object body, CancellationToken cancellation)
    {
        var started = time.GetTimestamp();
        var answer = await SendAsync(process, HttpMethod.Post, path, JsonContent.Create(body, options: HandoffJson.Options), cancellation);
        household.Log($"{process} POST /{path} {JsonSerializer.Serialize(body, HandoffJson.Options)} -> {answer} in {time.GetElapsedTime(started).TotalMilliseconds:0} ms");
        return answer;
    }

    /// <summary>The offers on a payer device's sheet, or null when its agent does not answer.</summary>
    public async Task<IReadOnlyList<OfferView>?> OffersAsync(string device, CancellationToken cancellation)
    {
        var answer = await SendAsync(device, HttpMethod.Get, "api/offers", null, cancellation);
        return answer.Ok ? answer.Read<List<OfferView>>() : null;
    }

    public void Dispose() => _http.Dispose();

    private async Task<AgentAnswer> SendAsync(string process, HttpMethod method, string path, HttpContent? content, CancellationToken cancellation)
    {
        var agent = household.AgentUrl(process);
        var kind = process == ChaosTopology.Initiator ? LocalApiToken.InitiatorAgent : LocalApiToken.PayerAgent;
        try
        {
            using var request = new HttpRequestMessage(method, new Uri(agent, path)) { Content = content };
            request.Headers.Add("Origin", agent.GetLeftPart(UriPartial.Authority));
            if (method != HttpMethod.Get)
            {
                request.Headers.Add(LocalApiRules.TokenHeader, LocalApiToken.Read(household.KeysDirectory, kind, agent.Port));
            }

            using var response = await _http.SendAsync(request, cancellation);
            var body = await response.Content.ReadAsStringAsync(cancellation);
            var json = body.TrimStart() is ['{' or '[', ..] ? JsonDocument.Parse(body).RootElement.Clone() : default;
            if (response.IsSuccessStatusCode)
            {
                return new AgentAnswer(response.StatusCode, json, null, string.Empty);
            }

            var error = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("error", out var detail) ? detail : default;
            return new AgentAnswer(
                response.StatusCode,
                json,
                error.ValueKind == JsonValueKind.Object ? error.GetProperty("code").GetString() : null,
                error.ValueKind == JsonValueKind.Object ? error.GetProperty("message").GetString() ?? string.Empty : $"HTTP {(int)response.StatusCode}");
        }
        catch (Exception problem) when (problem is HttpRequestException or TaskCanceledException or IOException or JsonException or Contracts.NotFoundException
            && !cancellation.IsCancellationRequested)
        {
            // No answer (the agent is down, frozen, or restarting and has not written its token yet): nothing is known.
            return new AgentAnswer(null, default, null, $"{process} did not answer: {problem.GetBaseException().Message}");
        }
    }
}
