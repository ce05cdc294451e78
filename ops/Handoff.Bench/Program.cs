using Handoff.Bench;

return await BenchRun.RunAsync(args);
