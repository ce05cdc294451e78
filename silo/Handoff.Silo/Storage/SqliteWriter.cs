using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Handoff.Silo.Storage;

/// <summary>
/// The one writer of a hub's SQLite file: grain state, reminder rows and ledger appends are queued here and
/// committed together (group commit). A dedicated thread owns one connection (WAL, <c>synchronous=FULL</c>);
/// it takes whatever is queued, up to <see cref="MaxBatch"/> writes, runs each in its own savepoint of one
/// write transaction and commits once. It never waits for more work to arrive: when the queue holds one write,
/// that write is committed alone. A write's task completes only after the commit that holds it is durable.
/// <para>
/// A write that throws is rolled back to its savepoint and fails alone; the rest of its batch commits. When the
/// batch itself fails (its begin or its commit), every write of it is run again in a transaction of its own, so
/// that only the writes that cannot be stored fail.
/// </para>
/// </summary>
public sealed partial class SqliteWriter : IAsyncDisposable, IDisposable
{
    /// <summary>The most writes one commit holds.</summary>
    public const int DefaultMaxBatch = 256;

    private const string ItemSavepoint = "handoff_item";

    private static readonly ConcurrentDictionary<string, SqliteWriter> s_shared = new(StringComparer.Ordinal);

    private readonly Channel<IWrite> _queue = Channel.CreateUnbounded<IWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _connectionString;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private SqliteConnection? _connection;
    private long _commits;
    private long _items;
    private long _retried;

    /// <summary>Starts the writer of the store that <paramref name="connectionString"/> names (its schema must exist: <see cref="SqliteStore.Ensure"/>).</summary>
    public SqliteWriter(string connectionString, ILogger<SqliteWriter>? logger = null, int maxBatch = DefaultMaxBatch)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _connectionString = new SqliteConnectionStringBuilder(connectionString) { Pooling = false }.ToString();
        _logger = logger ?? NullLogger<SqliteWriter>.Instance;
        MaxBatch = maxBatch;
        _thread = new Thread(Run) { IsBackground = true, Name = "handoff-sqlite-writer" };
        _thread.Start();
    }

    /// <summary>
    /// The writer of this process for the file that <paramref name="connectionString"/> names, for the stores that are
    /// made without one (tools and tests); it lives as long as the process. A hub makes and disposes its own.
    /// </summary>
    public static SqliteWriter Shared(string connectionString)
    {
        var file = Path.GetFullPath(new SqliteConnectionStringBuilder(connectionString).DataSource);
        return s_shared.GetOrAdd(file, _ => new SqliteWriter(connectionString));
    }

    public int MaxBatch { get; }

    /// <summary>Transactions committed so far (one per batch, or one per write run alone after a failed batch).</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Writes committed so far (those that failed alone are not counted).</summary>
    public long Items => Interlocked.Read(ref _items);

    /// <summary>Writes run again in a transaction of their own after their batch failed.</summary>
    public long Retried => Interlocked.Read(ref _retried);

    /// <summary>
    /// Queues <paramref name="write"/>, which runs on the writer's thread inside the open write transaction (it must not
    /// commit or roll it back); completes with its result once the transaction is committed, or with what it threw.
    /// <paramref name="cancellation"/> withdraws the write only while it is still queued.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> write, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        if (cancellation.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellation);
        }

        var item = new Write<T>(write, cancellation);
        if (!_queue.Writer.TryWrite(item))
        {
            throw new ObjectDisposedException(nameof(SqliteWriter), "the SQLite writer is stopped");
        }

        return item.Task;
    }

    /// <summary>The value of <c>PRAGMA <paramref name="name"/></c> on the writer's own connection.</summary>
    public Task<string?> PragmaAsync(string name)
    {
        if (!name.All(c => char.IsAsciiLetter(c) || c == '_'))
        {
            throw new ArgumentException($"not a pragma name: '{name}'", nameof(name));
        }

        return WriteAsync((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = $"PRAGMA {name};";
            return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        });
    }

    /// <summary>Commits what is queued, then stops the thread and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopped.Task.ConfigureAwait(false);
    }

    /// <summary>As <see cref="DisposeAsync"/>, waiting (a container disposed synchronously disposes its singletons so).</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        if (Thread.CurrentThread != _thread)
        {
            _stopped.Task.GetAwaiter().GetResult();
        }
    }

    private void Run()
    {
        var reader = _queue.Reader;
        var batch = new List<IWrite>(MaxBatch);
        try
        {
            while (true)
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
                    Commit(batch);
                    batch.Clear();
                    continue;
                }

                // Nothing queued: sleep until something is (the thread is this writer's own, so it may block).
                if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                {
                    break;
                }
            }
        }
        finally
        {
            _connection?.Dispose();
            _connection = null;
            _stopped.TrySetResult();
        }
    }

    private void Commit(List<IWrite> batch)
    {
        if (batch.Count == 1)
        {
            CommitAlone(batch[0]);
            return;
        }

        try
        {
            var connection = Connection();
            using (var transaction = connection.BeginTransaction(deferred: false))
            {
                foreach (var item in batch)
                {
                    transaction.Save(ItemSavepoint);
                    if (!item.Run(connection, transaction))
                    {
                        // The write threw: undo what it did, keep the others.
                        transaction.Rollback(ItemSavepoint);
                    }

                    transaction.Release(ItemSavepoint);
                }

                transaction.Commit();
            }

            Interlocked.Increment(ref _commits);
            Interlocked.Add(ref _items, batch.Count(item => item.Succeeded));
            foreach (var item in batch)
            {
                item.Complete();
            }
        }
        catch (Exception exception)
        {
            LogBatchFailed(_logger, exception, batch.Count);
            DropConnection();
            foreach (var item in batch)
            {
                Interlocked.Increment(ref _retried);
                CommitAlone(item);
            }
        }
    }

    private void CommitAlone(IWrite item)
    {
        try
        {
            var connection = Connection();
            using (var transaction = connection.BeginTransaction(deferred: false))
            {
                if (item.Run(connection, transaction))
                {
                    transaction.Commit();
                    Interlocked.Increment(ref _commits);
                    Interlocked.Increment(ref _items);
                }
            }

            item.Complete();
        }
        catch (Exception exception)
        {
            DropConnection();
            item.Fail(exception);
        }
    }

    private SqliteConnection Connection()
    {
        if (_connection is not null)
        {
            return _connection;
        }

        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using var command = connection.CreateCommand();

            // Durable before acknowledged: WAL (set by the schema, kept by the file) and a sync of the WAL at every commit.
            command.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;";
            command.ExecuteNonQuery();
            command.CommandText = "PRAGMA journal_mode;";
            var journal = Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            command.CommandText = "PRAGMA synchronous;";
            var synchronous = Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            LogOpened(_logger, connection.DataSource, journal, synchronous, MaxBatch);
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        _connection = connection;
        return connection;
    }

    // After a transaction failed (to begin, or to commit), its connection is not trusted: the next write opens a fresh one.
    private void DropConnection()
    {
        try
        {
            _connection?.Dispose();
        }
        catch (SqliteException)
        {
            // Closing a connection whose transaction is gone may complain; it is closed all the same.
        }

        _connection = null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "SQLite writer on {File}: journal_mode={Journal}, synchronous={Synchronous} (2 = FULL), up to {MaxBatch} writes a commit")]
    private static partial void LogOpened(ILogger logger, string file, string? journal, string? synchronous, int maxBatch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SQLite batch of {Count} writes failed; each is written again alone")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);

    private interface IWrite
    {
        bool Succeeded { get; }

        /// <summary>True (and completed as canceled) when the write was withdrawn while it waited.</summary>
        bool Withdrawn();

        /// <summary>Runs the write; false when it threw (the exception is kept for <see cref="Complete"/>).</summary>
        bool Run(SqliteConnection connection, SqliteTransaction transaction);

        /// <summary>Reports the outcome of <see cref="Run"/>, after the commit.</summary>
        void Complete();

        void Fail(Exception exception);
    }

    private sealed class Write<T>(Func<SqliteConnection, SqliteTransaction, T> write, CancellationToken cancellation) : IWrite
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private Exception? _error;

        public Task<T> Task => _done.Task;

        public bool Succeeded => _error is null;

        public bool Withdrawn() => cancellation.IsCancellationRequested && _done.TrySetCanceled(cancellation);

        public bool Run(SqliteConnection connection, SqliteTransaction transaction)
        {
            try
            {
                _result = write(connection, transaction);
                _error = null;
                return true;
            }
            catch (Exception exception)
            {
                _result = default;
                _error = exception;
                return false;
            }
        }

        public void Complete()
        {
            if (_error is { } error)
            {
                _done.TrySetException(error);
            }
            else
            {
                _done.TrySetResult(_result!);
            }
        }

        public void Fail(Exception exception) => _done.TrySetException(exception);
    }
}
