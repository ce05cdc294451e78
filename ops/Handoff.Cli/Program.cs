using Handoff.Cli.Commands;

return await HandoffCommands.RunAsync(args);
