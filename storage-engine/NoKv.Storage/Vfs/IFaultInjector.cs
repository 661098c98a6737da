namespace NoKv.Storage.Vfs;

/// <summary>Decides, per operation, whether a <see cref="FaultInjectingFileSystem"/> injects a fault. Must be thread-safe.</summary>
public interface IFaultInjector
{
    FaultAction OnOperation(FileOperation operation, string path);
}
