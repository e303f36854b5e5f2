await FunctionsHost.FunctionsHostApp.RunAsync(args);
