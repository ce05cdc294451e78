using System.Text.Json;
using Handoff.Contracts;
using Handoff.Sdk.Wire;

namespace Handoff.Cli.Commands;

/// <summary>Prints a command's result or error, as text or as JSON, and gives its exit code.</summary>
internal sealed class Output(bool json)
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;

    public bool Json => json;

    public int Result<T>(T value, Func<T, string> text)
    {
        Console.Out.WriteLine(json ? JsonSerializer.Serialize(value, HandoffJson.Indented) : text(value));
        return Success;
    }

    /// <summary>A progress line: shown in text mode only, so JSON output stays one document.</summary>
    public void Progress(string line)
    {
        if (!json)
        {
            Console.Out.WriteLine(line);
        }
    }

    public int Error(string code, string message, int exitCode = Failure, string? field = null)
    {
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(ErrorView.Of(code, message, field), HandoffJson.Indented));
        }
        else
        {
            Console.Error.WriteLine($"error: {message.ReplaceLineEndings(" ")}");
        }

        return exitCode;
    }

    /// <summary>Runs a command body, turning every expected failure into one clear line and exit code 1.</summary>
    public async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (ValidationException refused)
        {
            return Error(refused.Code, refused.Message, field: refused.Field);
        }
        catch (HandoffException refused)
        {
            return Error(refused.Code, refused.Message);
        }
        catch (Exception missing) when (missing is FileNotFoundException or DirectoryNotFoundException)
        {
            // The message names the path looked at; a stack trace would add nothing for the person.
            return Error(ErrorCodes.NotFound, missing.Message);
        }
        catch (HttpRequestException unreachable)
        {
            return Error(ErrorCodes.Unavailable, unreachable.Message);
        }
        catch (FormatException malformed)
        {
            return Error(ErrorCodes.Validation, malformed.Message, Usage);
        }
        catch (OperationCanceledException)
        {
            return Error(ErrorCodes.Cancelled, "interrupted");
        }
    }
}
