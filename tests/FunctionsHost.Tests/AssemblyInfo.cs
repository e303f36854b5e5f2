// Every test starts a whole stack (Azurite, simulator, host and a worker process): one at a time on a 2-core machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
