import Comm

/// Hierarchical all-reduce across nodes:
///
/// 1. Inside each node, a binomial-tree reduce to the node's leader (local rank 0), in fp32:
///    the node's ranks share memory, so compression would only cost.
/// 2. Among the leaders, one rank per node, a ring or halving-doubling all-reduce, with the
///    configured compression: this is the traffic that crosses the network.
/// 3. Inside each node, a binomial-tree broadcast from the leader.
///
/// Only 1 rank in localSize crosses the network, with lg(localSize) shared-memory steps on
/// either side. The leader's result is copied to its node, so all ranks agree bitwise.
struct HierarchicalGroups {
    let node: PeerGroup
    /// The leaders' group; nil on ranks that are not their node's leader.
    let leaders: PeerGroup?
}

extension HierarchicalGroups {
    func allReduce<F: WireFormat>(_ buffer: UnsafeMutableBufferPointer<F.Element>, _ format: F.Type,
                                  leaderAlgorithm: (Int) -> AllReduceAlgorithm) throws(CommError) {
        try node.treeReduceToRoot(buffer)
        if let leaders {
            let bytes = buffer.count * MemoryLayout<F.Element>.stride
            switch leaderAlgorithm(bytes) {
            case .ring: try leaders.ringAllReduce(buffer, format)
            default: try leaders.halvingDoublingAllReduce(buffer, format)
            }
        }
        try node.treeBroadcastFromRoot(buffer)
    }
}

extension PeerGroup {
    /// Binomial-tree reduce to rank 0: at distance 1, 2, 4, … a rank with that bit set sends
    /// its partial sum down and stops; the others add what they receive.
    func treeReduceToRoot<E: ReducibleElement>(_ buffer: UnsafeMutableBufferPointer<E>) throws(CommError) {
        let n = buffer.count
        if size == 1 || n == 0 { return }
        let datatype = elementDatatype(E.self)
        let received = scratch.reserve(n * MemoryLayout<E>.stride).bindMemory(to: E.self, capacity: n)
        var distance = 1, step = 0
        while distance < size {
            if rank & distance != 0 {
                try exchange(send: buffer.baseAddress!, sendCount: n, to: rank - distance, receive: nil, receiveCount: 0,
                             from: rank - distance, datatype: datatype, "node reduce", step: step)
                return
            }
            if rank + distance < size {
                try exchange(send: nil, sendCount: 0, to: rank + distance, receive: received, receiveCount: n,
                             from: rank + distance, datatype: datatype, "node reduce", step: step)
                E.accumulate(buffer.baseAddress!, received, count: n)
            }
            distance *= 2
            step += 1
        }
    }

    /// Binomial-tree broadcast from rank 0, the reduce's mirror image.
    func treeBroadcastFromRoot<E: ReducibleElement>(_ buffer: UnsafeMutableBufferPointer<E>) throws(CommError) {
        let n = buffer.count
        if size == 1 || n == 0 { return }
        let datatype = elementDatatype(E.self)
        var distance = 1
        while distance < size {
            if rank & distance != 0 {
                try exchange(send: nil, sendCount: 0, to: rank - distance, receive: buffer.baseAddress!, receiveCount: n,
                             from: rank - distance, datatype: datatype, "node broadcast", step: 0)
                break
            }
            distance *= 2
        }
        distance /= 2
        while distance > 0 {
            if rank + distance < size {
                try exchange(send: buffer.baseAddress!, sendCount: n, to: rank + distance, receive: nil, receiveCount: 0,
                             from: rank + distance, datatype: datatype, "node broadcast", step: 0)
            }
            distance /= 2
        }
    }
}
