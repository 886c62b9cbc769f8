import Comm
import CommMPI
import Foundation
import Host
import Tensor

/// An nccl-tests style all-reduce benchmark, and a check that every algorithm sums exactly.
///
/// Timing follows the mpi4py peer: a few warm-up calls, a barrier, `iterations` calls, a
/// barrier; time = elapsed / iterations. algbw = bytes / time; busbw = algbw · 2(p-1)/p.
public enum AllReduceBenchmark {
    public struct Row: Codable, Equatable, Sendable {
        public var bytes: Int
        public var count: Int
        public var algorithm: String
        /// What auto picked, or the algorithm itself.
        public var ran: String
        public var us: Double
        public var algbwGBps: Double
        public var busbwGBps: Double
        /// Whether the result equalled the serial sum (nil: not checked).
        public var correct: Bool?

        enum CodingKeys: String, CodingKey {
            case bytes, count, algorithm, ran, us, algbwGBps = "algbw_GBps", busbwGBps = "busbw_GBps", correct
        }
    }

    public struct Report: Codable, Equatable, Sendable {
        public var world: Int
        public var nodes: Int
        public var compression: String
        public var rows: [Row]
    }

    /// Runs every algorithm at every size on communicators built by `makeCommunicator`.
    /// - Parameter verify: also fill buffers with known values and compare with the serial sum.
    public static func run(sizes: [Int], algorithms: [AllReduceAlgorithm], iterations: Int?, verify: Bool,
                           options: AllReduceOptions, print: Bool) throws -> Report {
        var rows: [Row] = []
        var nodes = 1, world = 1
        for algorithm in algorithms {
            var o = options
            o.algorithm = algorithm
            let comm = try MPICommunicator(options: o)
            defer { comm.shutdown() }
            nodes = comm.nodeCount
            world = comm.size
            for bytes in sizes {
                let count = max(bytes / MemoryLayout<Float>.stride, 1)
                // Tensor storage, as training's gradients are: large buffers on huge pages.
                let storage = TensorStorage(count: count)
                let buffer = UnsafeMutableBufferPointer(start: storage.base, count: count)
                var correct: Bool?
                if verify {
                    correct = try check(comm, buffer, integers: true) && check(comm, buffer, integers: false)
                }
                buffer.initialize(repeating: 1)
                let n = iterations ?? max(5, min(200, (256 << 20) / max(bytes, 1)))
                for _ in 0..<3 { try comm.allReduceSum(buffer) }
                try comm.barrier()
                let start = MonotonicClock.nanoseconds()
                for _ in 0..<n { try comm.allReduceSum(buffer) }
                try comm.barrier()
                let seconds = MonotonicClock.seconds(since: start) / Double(n)
                let algbw = Double(count * 4) / seconds / 1e9
                let p = Double(comm.size)
                let row = Row(bytes: count * 4, count: count, algorithm: algorithm.rawValue,
                              ran: comm.algorithm(forBytes: count * 4).rawValue, us: seconds * 1e6, algbwGBps: algbw,
                              busbwGBps: algbw * 2 * (p - 1) / p, correct: correct)
                rows.append(row)
                if print && comm.rank == 0 { Console.line(format(row)) }
            }
        }
        return Report(world: world, nodes: nodes, compression: options.compression.rawValue, rows: rows)
    }

    public static let header = "      bytes       count  algorithm            time(us)   algbw(GB/s)  busbw(GB/s)  check"

    static func format(_ r: Row) -> String {
        func pad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(w - s.count, 0)) + s }
        let name = r.algorithm == r.ran ? r.algorithm : "\(r.algorithm)→\(r.ran)"
        let check = r.correct.map { $0 ? "ok" : "WRONG" } ?? "-"
        return pad(String(r.bytes), 11) + pad(String(r.count), 12) + "  " + name.padding(toLength: 18, withPad: " ", startingAt: 0)
            + pad(String(format: "%.1f", r.us), 11) + pad(String(format: "%.3f", r.algbwGBps), 14)
            + pad(String(format: "%.3f", r.busbwGBps), 13) + "  " + check
    }

    /// Fills `buffer` with values known on every rank, all-reduces it, and compares with the
    /// serial sum computed locally. Integer-valued floats must match bit for bit; general
    /// floats within a relative 1e-5 (compression: 1e-2) of the sum's magnitude.
    static func check(_ comm: MPICommunicator, _ buffer: UnsafeMutableBufferPointer<Float>, integers: Bool) throws -> Bool {
        func value(rank: Int, index: Int) -> Float {
            if integers { return Float((rank * 7 + index * 13) % 101 - 50) }
            var x = UInt64(rank &* 1_000_003 &+ index) &* 0x9E37_79B9_7F4A_7C15
            x ^= x >> 29
            return Float(x % 1_000_000) / 1_000_000 - 0.5
        }
        for i in buffer.indices { buffer[i] = value(rank: comm.rank, index: i) }
        try comm.allReduceSum(buffer)
        let exact = integers && comm.options.compression == .none
        // Compression rounds each partial sum on the wire: up to p roundings of 2^-9 (bf16)
        // or 2^-12 (fp16) of the magnitude; allow twice that.
        let p = Float(comm.size)
        let tolerance: Float = switch comm.options.compression {
        case .none: 1e-5
        case .fp16: 2 * p * 0x1p-12
        case .bf16: 2 * p * 0x1p-9
        }
        var ok = true
        for i in buffer.indices {
            var expected: Float = 0, magnitude: Float = 0
            for r in 0..<comm.size {
                expected += value(rank: r, index: i)
                magnitude += abs(value(rank: r, index: i))
            }
            if exact ? buffer[i] != expected : abs(buffer[i] - expected) > tolerance * max(magnitude, 1) {
                ok = false
                break
            }
        }
        var all = [ok ? 0.0 : 1.0]
        try all.withUnsafeMutableBufferPointer { (b) throws(CommError) in try comm.allReduce(b, .max) }
        return all[0] == 0
    }
}
