namespace NoKv.Storage.Vfs;

/// <summary>An I/O error injected by a <see cref="FaultInjectingFileSystem"/>.</summary>
public sealed class InjectedFaultException : IOException
{
    public InjectedFaultException(FileOperation operation, string path, FaultAction action)
        : base($"Injected fault: {action} on {operation} of '{path}'.")
    {
        Operation = operation;
        FaultPath = path;
        Action = action;
    }

    public FileOperation Operation { get; }

    public string FaultPath { get; }

    public FaultAction Action { get; }
}
