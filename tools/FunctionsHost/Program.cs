return await FunctionsHost.FunctionsHostApp.RunAsync(args);
