using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Parley.Benchmarks.GroupCommitBenchmarks).Assembly).Run(args);
