using Handoff.Silo.Storage;
using Microsoft.Data.Sqlite;

namespace Handoff.Storage.Tests;

/// <summary>The group commit of the embedded store's file: shared commits, writes that fail alone, durability settings.</summary>
public sealed class SqliteWriterTests : IAsyncLifetime
{
    private SqliteFolder _folder = null!;
    private SqliteWriter _writer = null!;

    public async Task InitializeAsync()
    {
        _folder = new SqliteFolder("handoff-writer-");
        await using var connection = new SqliteConnection(_folder.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "CREATE TABLE test_row (id INTEGER NOT NULL PRIMARY KEY, note TEXT NOT NULL);";
        await command.ExecuteNonQueryAsync();
        _writer = new SqliteWriter(_folder.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _writer.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task The_writer_connection_is_in_WAL_with_synchronous_FULL()
    {
        Assert.Equal("wal", await _writer.PragmaAsync("journal_mode"));
        Assert.Equal("2", await _writer.PragmaAsync("synchronous"));
    }

    [Fact]
    public async Task Concurrent_writes_share_commits_and_all_of_them_are_stored()
    {
        const int Writes = 2_000;
        var writes = Enumerable.Range(1, Writes)
            .Select(id => Task.Run(() => _writer.WriteAsync((connection, transaction) => Insert(connection, transaction, id))))
            .ToArray();

        Assert.Equal(Enumerable.Repeat(1, Writes), await Task.WhenAll(writes));
        Assert.Equal(Writes, _writer.Items);
        Assert.True(_writer.Commits < _writer.Items, $"{_writer.Commits} commits for {_writer.Items} writes");
        Assert.Equal(Writes, await CountAsync());
    }

    [Fact]
    public async Task A_write_that_throws_fails_alone_and_the_rest_of_its_batch_commits()
    {
        var (release, commitsBefore) = await HoldTheWriterAsync();
        var good = Enumerable.Range(1, 20).Select(id => _writer.WriteAsync((connection, transaction) => Insert(connection, transaction, id))).ToList();
        // The same key twice: the second insert violates the primary key, and only it may fail.
        var duplicate = _writer.WriteAsync((connection, transaction) => Insert(connection, transaction, 7));
        var half = _writer.WriteAsync<int>((connection, transaction) =>
        {
            Insert(connection, transaction, 1_000);
            throw new InvalidOperationException("the test fails this write after its first row");
        });
        release();

        Assert.Equal(Enumerable.Repeat(1, 20), await Task.WhenAll(good));
        Assert.Equal(19, (await Assert.ThrowsAsync<SqliteException>(() => duplicate)).SqliteErrorCode);
        await Assert.ThrowsAsync<InvalidOperationException>(() => half);
        Assert.Equal(20, await CountAsync());
        Assert.Equal(0, await CountAsync("id = 1000"));
        Assert.Equal(commitsBefore + 2, _writer.Commits); // the holding write alone, then one commit for the batch
        Assert.Equal(0, _writer.Retried);
    }

    [Fact]
    public async Task A_write_that_breaks_its_batch_fails_alone_and_the_others_are_committed_one_by_one()
    {
        var (release, _) = await HoldTheWriterAsync();
        var good = Enumerable.Range(1, 10).Select(id => _writer.WriteAsync((connection, transaction) => Insert(connection, transaction, id))).ToList();
        var breaking = _writer.WriteAsync((connection, transaction) =>
        {
            // Ends the writer's transaction under it: the batch cannot commit.
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "ROLLBACK;";
            return command.ExecuteNonQuery();
        });
        release();

        Assert.Equal(Enumerable.Repeat(1, 10), await Task.WhenAll(good));
        await Assert.ThrowsAnyAsync<Exception>(() => breaking);
        Assert.Equal(10, await CountAsync());
        Assert.Equal(11, _writer.Retried);

        // The writer goes on.
        Assert.Equal(1, await _writer.WriteAsync((connection, transaction) => Insert(connection, transaction, 99)));
    }

    [Fact]
    public async Task Disposing_commits_what_is_queued_and_then_refuses_writes()
    {
        var (release, _) = await HoldTheWriterAsync();
        var queued = Enumerable.Range(1, 50).Select(id => _writer.WriteAsync((connection, transaction) => Insert(connection, transaction, id))).ToList();
        release();
        await _writer.DisposeAsync();

        Assert.All(queued, write => Assert.True(write.IsCompletedSuccessfully));
        Assert.Equal(50, await CountAsync());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => _writer.WriteAsync((_, _) => 0));
    }

    [Fact]
    public async Task Disposing_synchronously_also_commits_what_is_queued()
    {
        var (release, _) = await HoldTheWriterAsync();
        var queued = Enumerable.Range(1, 5).Select(id => _writer.WriteAsync((connection, transaction) => Insert(connection, transaction, id))).ToList();
        release();
        _writer.Dispose();

        Assert.All(queued, write => Assert.True(write.IsCompletedSuccessfully));
        Assert.Equal(5, await CountAsync());
    }

    [Fact]
    public async Task A_write_withdrawn_while_queued_is_not_written()
    {
        var (release, _) = await HoldTheWriterAsync();
        using var cancellation = new CancellationTokenSource();
        var withdrawn = _writer.WriteAsync((connection, transaction) => Insert(connection, transaction, 1), cancellation.Token);
        var kept = _writer.WriteAsync((connection, transaction) => Insert(connection, transaction, 2));
        await cancellation.CancelAsync();
        release();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => withdrawn);
        Assert.Equal(1, await kept);
        Assert.Equal(1, await CountAsync());
    }

    /// <summary>
    /// Occupies the writer's thread with a write that waits, so the writes queued meanwhile go in one batch once the
    /// returned action lets it go; also returns the commits before.
    /// </summary>
    internal static Task<(Action Release, long CommitsBefore)> HoldTheWriterAsync(SqliteWriter writer)
    {
        var started = new TaskCompletionSource<(Action, long)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new ManualResetEventSlim();
        var commits = writer.Commits;
        _ = writer.WriteAsync((_, _) =>
        {
            started.TrySetResult((gate.Set, commits));
            gate.Wait(TimeSpan.FromSeconds(30));
            return 0;
        });
        return started.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private Task<(Action Release, long CommitsBefore)> HoldTheWriterAsync() => HoldTheWriterAsync(_writer);

    private static int Insert(SqliteConnection connection, SqliteTransaction transaction, int id)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO test_row (id, note) VALUES ($id, 'row');";
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteNonQuery();
    }

    private async Task<long> CountAsync(string filter = "1 = 1")
    {
        await using var connection = new SqliteConnection(_folder.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM test_row WHERE {filter};";
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
