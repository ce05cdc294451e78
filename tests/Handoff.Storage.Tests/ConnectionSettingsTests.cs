using Handoff.Storage.Postgres;
using Npgsql;

namespace Handoff.Storage.Tests;

/// <summary>What the hub changes in an operator's PostgreSQL connection string, and what it leaves alone.</summary>
public sealed class ConnectionSettingsTests
{
    [Fact]
    public void Unset_settings_get_the_hubs_defaults()
    {
        var settings = new NpgsqlConnectionStringBuilder(PostgresHostingExtensions.ForProviders("Host=db.home;Database=handoff;Username=handoff"));

        Assert.True(settings.NoResetOnClose);
        Assert.Equal(32, settings.MaxAutoPrepare);
        Assert.Equal(PostgresHostingExtensions.DefaultMaxPoolSize, settings.MaxPoolSize);
        Assert.Equal("db.home", settings.Host);
        Assert.Equal("handoff", settings.Database);
    }

    [Theory]
    [InlineData("Maximum Pool Size=100", 100)]
    [InlineData("MaxPoolSize=7", 7)]
    [InlineData("maxpoolsize=12", 12)]
    public void A_pool_size_the_operator_set_is_kept_even_when_it_is_npgsqls_default(string setting, int expected)
    {
        var settings = new NpgsqlConnectionStringBuilder(PostgresHostingExtensions.ForProviders($"Host=db.home;{setting}"));

        Assert.Equal(expected, settings.MaxPoolSize);
    }

    [Fact]
    public void Prepared_statements_the_operator_set_are_kept()
    {
        var settings = new NpgsqlConnectionStringBuilder(PostgresHostingExtensions.ForProviders("Host=db.home;Max Auto Prepare=5"));

        Assert.Equal(5, settings.MaxAutoPrepare);
    }
}
