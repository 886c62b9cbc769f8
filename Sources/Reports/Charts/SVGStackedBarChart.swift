import Foundation
import Host

/// A stacked bar chart as SVG: one bar per category (e.g. a world size), each split into
/// named parts stacked bottom-up, with the total written above the bar and a legend.
public struct SVGStackedBarChart: Sendable {
    public struct Part: Sendable {
        public var name: String
        public var color: String
        /// One value per category.
        public var values: [Double]

        public init(_ name: String, color: String, values: [Double]) {
            self.name = name
            self.color = color
            self.values = values
        }
    }

    public var title: String
    public var note: String?
    public var categories: [String]
    public var categoryLabel: String
    public var y: ChartAxis
    public var parts: [Part]
    /// Text above each bar (nil: the formatted total).
    public var barLabels: [String]?
    public var width = 780.0
    public var height = 460.0

    public init(title: String, note: String? = nil, categories: [String], categoryLabel: String, y: ChartAxis, parts: [Part],
                barLabels: [String]? = nil) {
        self.title = title
        self.note = note
        self.categories = categories
        self.categoryLabel = categoryLabel
        self.y = y
        self.parts = parts
        self.barLabels = barLabels
    }

    public func svg() -> String {
        var d = SVGDocument(width: width, height: height)
        let (left, top, plotW, plotH) = d.plotArea(hasNote: note != nil)
        let totals = categories.indices.map { i in parts.reduce(0) { $0 + max($1.values[safe: i] ?? 0, 0) } }
        var axis = y
        axis.includeZero = true
        let yl = axis.layout(0, (totals.max() ?? 1) * 1.08)
        func py(_ v: Double) -> Double { top + plotH - axis.fraction(v, yl.low, yl.high) * plotH }

        d.text(title, left, 26, size: 16, weight: "bold")
        if let note { d.text(note, left, 45, size: 11.5, fill: "#555") }
        for t in yl.ticks {
            d.line(left, py(t), left + plotW, py(t), stroke: "#e3e3e3")
            d.text(axis.format(t), left - 8, py(t) + 4, size: 11, anchor: .end, fill: "#444")
        }
        let slot = plotW / Double(max(categories.count, 1))
        let barW = min(slot * 0.62, 90)
        for (i, category) in categories.enumerated() {
            let cx = left + slot * (Double(i) + 0.5)
            var base = 0.0
            for part in parts {
                let v = max(part.values[safe: i] ?? 0, 0)
                guard v > 0 else { continue }
                let y0 = py(base), y1 = py(base + v)
                d.rect(cx - barW / 2, y1, barW, y0 - y1, fill: part.color,
                       tooltip: "\(category): \(part.name) \(axis.format(v))")
                base += v
            }
            let label = barLabels?[safe: i] ?? axis.format(totals[i])
            d.text(label, cx, py(totals[i]) - 6, size: 11, anchor: .middle, fill: "#333")
            d.text(category, cx, top + plotH + 19, size: 11.5, anchor: .middle, fill: "#444")
        }
        d.line(left, top + plotH, left + plotW, top + plotH, stroke: "#444")
        d.line(left, top, left, top + plotH, stroke: "#444")
        d.text(categoryLabel, left + plotW / 2, height - 14, size: 12.5, anchor: .middle)
        d.text(axis.label, 20, top + plotH / 2, size: 12.5, anchor: .middle, rotate: -90)

        // Legend, top part first, as the bars stack.
        var ly = top + 6
        let lx = left + plotW + 18
        for part in parts.reversed() {
            d.rect(lx, ly - 6, 14, 12, fill: part.color)
            d.text(part.name, lx + 22, ly + 4, size: 11.5)
            ly += 19
        }
        return d.render(title: title)
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
