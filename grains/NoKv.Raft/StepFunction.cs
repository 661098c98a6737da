using NoKv.Raft.Messages;

namespace NoKv.Raft;

/// <summary>A role's message handler (leader, candidate, follower); takes the message by reference to avoid copying it.</summary>
internal delegate void StepFunction(in Message m);
