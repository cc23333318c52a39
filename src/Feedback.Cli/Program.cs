using Feedback.Cli;

return await CliApp.RunAsync(args);
