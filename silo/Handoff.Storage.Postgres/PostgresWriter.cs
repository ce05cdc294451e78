using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Handoff.Storage.Postgres;

/// <summary>
/// The writer of a hub's PostgreSQL database: grain state and ledger appends are queued here and committed together
/// (group commit). One loop owns one connection; it takes whatever is queued, up to <see cref="MaxBatch"/> writes,
/// and sends them as one <see cref="NpgsqlBatch"/>: one round trip, and, with no explicit transaction, one implicit
/// transaction that PostgreSQL commits at the batch's end (so one WAL flush at <c>synchronous_commit=on</c>). It
/// never waits for more work to arrive: while a batch is on the wire the next one gathers, and a lone write goes
/// alone. A write's task completes only after the commit that holds it is acknowledged by the server.
/// <para>
/// A conflict that a statement reports as a result (a stale ETag updates no row) fails that write alone. A statement
/// that raises an error aborts the whole batch, so then every write of it is run again in a transaction of its own,
/// and only those that cannot be stored fail (a lost connection during a commit may have committed the batch; every
/// write routed here tells a repeat from a first run: versions for grain state, payment ids for the ledger).
/// </para>
/// </summary>
public sealed partial class PostgresWriter : IAsyncDisposable, IDisposable
{
    /// <summary>The most writes one commit holds.</summary>
    public const int DefaultMaxBatch = 256;

    private static readonly ConcurrentDictionary<string, PostgresWriter> s_shared = new(StringComparer.Ordinal);
    private static readonly Lock s_sharedLock = new();

    private readonly Channel<IWrite> _queue = Channel.CreateUnbounded<IWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly string _connectionString;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private NpgsqlConnection? _connection;
    private volatile bool _stopping;
    private long _commits;
    private long _items;
    private long _retried;

    /// <summary>Starts a writer on the database that <paramref name="connectionString"/> names (its schema must exist: <see cref="PostgresSchema.EnsureAsync"/>).</summary>
    public PostgresWriter(string connectionString, ILogger<PostgresWriter>? logger = null, int maxBatch = DefaultMaxBatch)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _connectionString = connectionString;
        _logger = logger ?? NullLogger<PostgresWriter>.Instance;
        MaxBatch = maxBatch;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>
    /// The writer of this process for <paramref name="connectionString"/>, which the hub's grain storage and ledger
    /// journal share (so a charge and the grain writes queued beside it go in one commit). It lives as long as the
    /// process; one that was disposed is replaced by a new one on the next call.
    /// </summary>
    public static PostgresWriter Shared(string connectionString, ILoggerFactory? loggers = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        if (s_shared.TryGetValue(connectionString, out var writer) && !writer.IsStopped)
        {
            return writer;
        }

        lock (s_sharedLock)
        {
            if (s_shared.TryGetValue(connectionString, out writer) && !writer.IsStopped)
            {
                return writer;
            }

            writer = new PostgresWriter(connectionString, loggers?.CreateLogger<PostgresWriter>());
            s_shared[connectionString] = writer;
            return writer;
        }
    }

    public int MaxBatch { get; }

    /// <summary>Transactions committed so far (one per batch, or one per write run alone after a failed batch).</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Writes whose transaction committed so far (a write refused by its statement, such as a stale ETag, counts: it was answered).</summary>
    public long Items => Interlocked.Read(ref _items);

    /// <summary>Writes run again in a transaction of their own after their batch failed.</summary>
    public long Retried => Interlocked.Read(ref _retried);

    /// <summary>Whether the writer takes no more writes (it was disposed).</summary>
    public bool IsStopped => _stopping;

    /// <summary>
    /// Queues one statement: <paramref name="command"/> makes it (it is called again if the write is run a second
    /// time), and <paramref name="read"/> reads its one result set, with the reader on that set (it must not move to
    /// the next one). Completes with what <paramref name="read"/> returned once the transaction holding the statement
    /// is committed, or with the error that kept it from being stored. <paramref name="cancellation"/> withdraws the
    /// write only while it is still queued.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<NpgsqlBatchCommand> command, Func<NpgsqlDataReader, CancellationToken, Task<T>> read, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(read);
        if (cancellation.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellation);
        }

        var item = new Write<T>(command, read, cancellation);
        if (_stopping || !_queue.Writer.TryWrite(item))
        {
            throw new ObjectDisposedException(nameof(PostgresWriter), "the PostgreSQL writer is stopped");
        }

        return item.Task;
    }

    /// <summary>Commits what is queued, then stops and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    /// <summary>As <see cref="DisposeAsync"/>, waiting (a container disposed synchronously disposes its singletons so).</summary>
    public void Dispose()
    {
        _stopping = true;
        _queue.Writer.TryComplete();
        _loop.GetAwaiter().GetResult();
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<IWrite>(MaxBatch);
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (batch.Count < MaxBatch && reader.TryRead(out var next))
                {
                    if (!next.Withdrawn())
                    {
                        batch.Add(next);
                    }
                }

                if (batch.Count > 0)
                {
                    await CommitAsync(batch).ConfigureAwait(false);
                    batch.Clear();
                }
            }
        }
        finally
        {
            await DropConnectionAsync().ConfigureAwait(false);
        }
    }

    private async Task CommitAsync(List<IWrite> batch)
    {
        if (batch.Count == 1)
        {
            await CommitAloneAsync(batch[0]).ConfigureAwait(false);
            return;
        }

        try
        {
            await RunBatchAsync(batch).ConfigureAwait(false);
            Interlocked.Increment(ref _commits);
            Interlocked.Add(ref _items, batch.Count);
            foreach (var item in batch)
            {
                item.Complete();
            }
        }
        catch (Exception exception)
        {
            LogBatchFailed(_logger, exception, batch.Count);
            await DropConnectionAsync().ConfigureAwait(false);
            foreach (var item in batch)
            {
                Interlocked.Increment(ref _retried);
                await CommitAloneAsync(item).ConfigureAwait(false);
            }
        }
    }

    private async Task CommitAloneAsync(IWrite item)
    {
        try
        {
            await RunBatchAsync([item]).ConfigureAwait(false);
            Interlocked.Increment(ref _commits);
            Interlocked.Increment(ref _items);
            item.Complete();
        }
        catch (Exception exception)
        {
            if (exception is not PostgresException)
            {
                // The connection itself may be what failed: the next write opens a fresh one.
                await DropConnectionAsync().ConfigureAwait(false);
            }

            item.Fail(exception);
        }
    }

    // One round trip: every statement, then the Sync that ends (commits) the implicit transaction. The reader is
    // disposed before anything is acknowledged, because the commit's own error, if any, arrives only then.
    private async Task RunBatchAsync(IReadOnlyList<IWrite> items)
    {
        var connection = await ConnectionAsync().ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection);
        foreach (var item in items)
        {
            batch.BatchCommands.Add(item.Command());
        }

        var reader = await batch.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            for (var i = 0; i < items.Count; i++)
            {
                if (i > 0 && !await reader.NextResultAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    throw new InvalidOperationException($"the PostgreSQL batch returned {i} result sets for {items.Count} statements");
                }

                await items[i].ReadAsync(reader).ConfigureAwait(false);
            }
        }
        finally
        {
            await reader.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<NpgsqlConnection> ConnectionAsync()
    {
        if (_connection is not null)
        {
            return _connection;
        }

        var connection = new NpgsqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync().ConfigureAwait(false);

            // What "committed" means here is the server's setting: it is logged once per connection.
            await using var show = new NpgsqlCommand("SHOW synchronous_commit", connection);
            var synchronousCommit = Convert.ToString(await show.ExecuteScalarAsync().ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            LogOpened(_logger, connection.Host, connection.Database, synchronousCommit, MaxBatch);
            if (string.Equals(synchronousCommit, "off", StringComparison.OrdinalIgnoreCase))
            {
                LogNotDurable(_logger, connection.Host, connection.Database);
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _connection = connection;
        return connection;
    }

    private async Task DropConnectionAsync()
    {
        var connection = _connection;
        _connection = null;
        if (connection is null)
        {
            return;
        }

        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException)
        {
            // Closing a broken connection may complain; it is closed all the same.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL writer on {Host}/{Database}: synchronous_commit={SynchronousCommit}, up to {MaxBatch} writes a commit")]
    private static partial void LogOpened(ILogger logger, string? host, string? database, string? synchronousCommit, int maxBatch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL {Host}/{Database} runs with synchronous_commit=off: an acknowledged write can be lost in a crash of the server")]
    private static partial void LogNotDurable(ILogger logger, string? host, string? database);

    [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL batch of {Count} writes failed; each is written again alone")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);

    private interface IWrite
    {
        /// <summary>True (and completed as canceled) when the write was withdrawn while it waited.</summary>
        bool Withdrawn();

        NpgsqlBatchCommand Command();

        /// <summary>Reads the statement's result set and keeps what it read for <see cref="Complete"/>.</summary>
        Task ReadAsync(NpgsqlDataReader reader);

        /// <summary>Reports what <see cref="ReadAsync"/> read, after the commit.</summary>
        void Complete();

        void Fail(Exception exception);
    }

    private sealed class Write<T>(
        Func<NpgsqlBatchCommand> command,
        Func<NpgsqlDataReader, CancellationToken, Task<T>> read,
        CancellationToken cancellation) : IWrite
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;

        public Task<T> Task => _done.Task;

        public bool Withdrawn() => cancellation.IsCancellationRequested && _done.TrySetCanceled(cancellation);

        public NpgsqlBatchCommand Command() => command();

        public async Task ReadAsync(NpgsqlDataReader reader) => _result = await read(reader, CancellationToken.None).ConfigureAwait(false);

        public void Complete() => _done.TrySetResult(_result!);

        public void Fail(Exception exception) => _done.TrySetException(exception);
    }
}
