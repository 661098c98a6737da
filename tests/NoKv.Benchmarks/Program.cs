namespace NoKv.Benchmarks;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("usage: NoKv.Benchmarks storage|raft|cluster [--quick] [--json FILE]");
        return args.Length == 0 ? 2 : 1;
    }
}
