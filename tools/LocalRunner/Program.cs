await LocalRunner.LocalRunnerApp.RunAsync(args);
