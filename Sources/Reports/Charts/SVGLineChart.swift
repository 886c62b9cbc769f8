import Foundation
import Host

/// A line chart as SVG: series of (x, y) points drawn as lines and/or markers, on linear or
/// log axes, with grid lines, axis labels, a title, an optional note under it, and a legend
/// on the right.
public struct SVGLineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var color: String
        public var points: [(x: Double, y: Double)]
        public var line: Bool
        public var markers: Bool
        public var dashed: Bool
        /// Hollow markers (e.g. for points outside a fit's range).
        public var hollow: Bool

        public init(_ name: String, color: String, points: [(x: Double, y: Double)], line: Bool = true, markers: Bool = true,
                    dashed: Bool = false, hollow: Bool = false) {
            self.name = name
            self.color = color
            self.points = points
            self.line = line
            self.markers = markers
            self.dashed = dashed
            self.hollow = hollow
        }
    }

    public var title: String
    public var note: String?
    public var x: ChartAxis
    public var y: ChartAxis
    public var series: [Series]
    public var width = 780.0
    public var height = 460.0

    public init(title: String, note: String? = nil, x: ChartAxis, y: ChartAxis, series: [Series]) {
        self.title = title
        self.note = note
        self.x = x
        self.y = y
        self.series = series
    }

    public func svg() -> String {
        var d = SVGDocument(width: width, height: height)
        let (left, top, plotW, plotH) = d.plotArea(hasNote: note != nil)
        let points = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite && (x.scale == .linear || $0.x > 0) && (y.scale == .linear || $0.y > 0) }
        let xs = points.map(\.x), ys = points.map(\.y)
        let xl = x.layout(xs.min() ?? 1, xs.max() ?? 2), yl = y.layout(ys.min() ?? 0, ys.max() ?? 1)
        func px(_ v: Double) -> Double { left + x.fraction(v, xl.low, xl.high) * plotW }
        func py(_ v: Double) -> Double { top + plotH - y.fraction(v, yl.low, yl.high) * plotH }

        d.text(title, left, 26, size: 16, weight: "bold")
        if let note { d.text(note, left, 45, size: 11.5, fill: "#555") }
        // Grid and ticks.
        for t in yl.ticks {
            let yy = py(t)
            d.line(left, yy, left + plotW, yy, stroke: "#e3e3e3")
            d.text(y.format(t), left - 8, yy + 4, size: 11, anchor: .end, fill: "#444")
        }
        for t in xl.ticks {
            let xx = px(t)
            d.line(xx, top, xx, top + plotH, stroke: "#f0f0f0")
            d.line(xx, top + plotH, xx, top + plotH + 5, stroke: "#444")
            d.text(x.format(t), xx, top + plotH + 19, size: 11, anchor: .middle, fill: "#444")
        }
        d.line(left, top + plotH, left + plotW, top + plotH, stroke: "#444")
        d.line(left, top, left, top + plotH, stroke: "#444")
        d.text(x.label, left + plotW / 2, height - 14, size: 12.5, anchor: .middle)
        d.text(y.label, 20, top + plotH / 2, size: 12.5, anchor: .middle, rotate: -90)

        // Series, clipped to the plot by dropping points outside it.
        func inside(_ p: (x: Double, y: Double)) -> Bool {
            guard p.x.isFinite, p.y.isFinite, x.scale == .linear || p.x > 0, y.scale == .linear || p.y > 0 else { return false }
            let fx = x.fraction(p.x, xl.low, xl.high), fy = y.fraction(p.y, yl.low, yl.high)
            return fx >= -1e-9 && fx <= 1 + 1e-9 && fy >= -1e-9 && fy <= 1 + 1e-9
        }
        for s in series {
            let shown = s.points.filter(inside)
            if s.line { d.polyline(shown.map { (px($0.x), py($0.y)) }, stroke: s.color, width: 2, dash: s.dashed ? "7 4" : nil) }
            if s.markers {
                for p in shown {
                    d.circle(px(p.x), py(p.y), r: 3.8, fill: s.hollow ? "#ffffff" : s.color, stroke: s.color,
                             tooltip: "\(s.name): \(x.format(p.x)), \(y.format(p.y))")
                }
            }
        }

        // Legend.
        var ly = top + 6
        let lx = left + plotW + 18
        for s in series {
            if s.line { d.line(lx, ly, lx + 26, ly, stroke: s.color, width: 2, dash: s.dashed ? "7 4" : nil) }
            if s.markers { d.circle(lx + 13, ly, r: 3.8, fill: s.hollow ? "#ffffff" : s.color, stroke: s.color) }
            var name = s.name
            if name.count > 30 { name = String(name.prefix(29)) + "…" }
            d.text(name, lx + 34, ly + 4, size: 11.5)
            ly += 19
        }
        return d.render(title: title)
    }
}
