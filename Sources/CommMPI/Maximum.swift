import Comm

/// A Double that an all-reduce combines by maximum (no NaN: the maximum is then exact and
/// the same in any order).
struct Maximum: ReducibleElement {
    var value: Double

    static func accumulate(_ into: UnsafeMutablePointer<Maximum>, _ from: UnsafePointer<Maximum>, count: Int) {
        for i in 0..<count { into[i].value = max(into[i].value, from[i].value) }
    }
}
