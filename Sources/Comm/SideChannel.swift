/// Small out-of-band messages between ranks on a communicator of their own, for the
/// watchdog: it must still talk when the data path is stuck. A message is 8 Int64 words.
public protocol SideChannel: AnyObject {
    /// Sends `words` (8 of them) to `rank` without waiting for delivery.
    func post(_ words: [Int64], to rank: Int) throws(CommError)
    /// A message that has arrived, if any: its source and words.
    func poll() throws(CommError) -> (source: Int, words: [Int64])?
}
