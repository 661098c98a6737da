namespace NoKv.Silo.Membership;

/// <summary>
/// The membership table file exists but cannot be trusted: a bad header, a length or checksum mismatch (a torn
/// or partly written file) or a body that does not decode. Nothing is written over a corrupt table; an operator
/// stops every store, removes the file (the stores' data is not in it) and starts them again.
/// </summary>
public sealed class MembershipTableCorruptException : IOException
{
    public MembershipTableCorruptException(string path, string reason, Exception? inner = null)
        : base($"Membership table '{path}' is corrupt ({reason}). Stop every store, delete the file and start the stores again; their data is not in it.", inner)
    {
        TablePath = path;
        Reason = reason;
    }

    public string TablePath { get; }

    public string Reason { get; }
}
