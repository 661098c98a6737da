namespace NoKv.IntegrationTests.Serializability;

/// <summary>A micro-operation of the list-append workload.</summary>
public enum ListOpKind
{
    /// <summary>Read a key's whole list.</summary>
    Read,

    /// <summary>Append one element, unique in the whole history, to a key's list.</summary>
    Append,
}
