namespace NoKv.Chaos.Checking;

/// <summary>The checker's answer for one key's history.</summary>
public enum KeyVerdict
{
    Linearizable,
    NotLinearizable,

    /// <summary>The search hit its state budget before deciding (reported, never counted as a pass).</summary>
    Undecided,
}
