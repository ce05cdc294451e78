using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Handoff.Telemetry.Tests;

/// <summary>A real Prometheus server (Debian's <c>prometheus</c> package) on loopback, scraping one target every second.</summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;
    private readonly StringBuilder _output = new();

    private PrometheusServer(Process process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public HttpClient Http { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Where the binary is: <c>HANDOFF_PROMETHEUS</c>, else the Debian package's.</summary>
    public static string Binary => Environment.GetEnvironmentVariable("HANDOFF_PROMETHEUS") ?? "/usr/bin/prometheus";

    public static async Task<PrometheusServer> StartAsync(string target, string metricsPath)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"no Prometheus server at {Binary}: install it with 'apt-get install -y prometheus' (or set HANDOFF_PROMETHEUS)");
        }

        var folder = Path.Combine(Path.GetTempPath(), "handoff-prometheus-" + Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(folder);
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: handoff-hub
                metrics_path: {metricsPath}
                static_configs:
                  - targets: ['{target}']
            """);
        var port = LoopbackPorts.Reserve();
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(folder, "data")}",
            $"--web.listen-address=127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--log.level=warn",
        })
        {
            start.ArgumentList.Add(arg);
        }

        var server = new PrometheusServer(new Process { StartInfo = start }, folder, port);
        server._process.OutputDataReceived += (_, line) => server.Record(line.Data);
        server._process.ErrorDataReceived += (_, line) => server.Record(line.Data);
        server._process.Start();
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        await server.WaitUntilAsync(
            async () => (await server.Http.GetAsync("/-/ready")).IsSuccessStatusCode,
            "Prometheus to be ready",
            TimeSpan.FromSeconds(30));
        return server;
    }

    /// <summary>The value of an instant query that returns one series, or null while it returns none.</summary>
    public async Task<double?> QueryAsync(string query)
    {
        var answer = await Http.GetFromJsonAsync<JsonElement>($"/api/v1/query?query={Uri.EscapeDataString(query)}");
        var result = answer.GetProperty("data").GetProperty("result");
        return result.GetArrayLength() == 0
            ? null
            : double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    public Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan timeout) => BoundedWait.UntilAsync(
        async () =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Prometheus exited while waiting for {what}:\n{Output}");
            }

            try
            {
                return await condition();
            }
            catch (HttpRequestException)
            {
                return false; // Not listening yet.
            }
        },
        what,
        timeout,
        () => Output);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private void Record(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
