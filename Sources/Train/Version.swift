/// Lockstep's version, recorded in summaries and checkpoints.
public enum Lockstep {
    public static let version = "0.1.0"
}
