namespace FunctionsHost.Worker;

/// <summary>The worker did not get to "all functions loaded": it exited, timed out, or reported a failure. The message
/// carries the worker's own last words (its console output and error logs), e.g. the name of a missing setting.</summary>
public sealed class WorkerStartupException(string message) : Exception(message);

/// <summary>An invocation could not complete because the worker process went away (it is being restarted).</summary>
public sealed class WorkerUnavailableException(string message) : Exception(message);
