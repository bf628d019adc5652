/// A Barnes-Hut quadtree over 2-D points, stored in flat arrays that are reused from one
/// iteration to the next (no allocation once they have grown to size). Each node keeps its
/// square cell, point count and the sum of its points (centre of mass = sum / count).
/// Cells stop splitting at `maximumDepth`, so duplicate points share a leaf instead of
/// splitting forever.
struct QuadTree {
    static let maximumDepth = 40

    var centreX: [Float] = [], centreY: [Float] = [], halfSide: [Float] = []
    var sumX: [Float] = [], sumY: [Float] = []
    var count: [Int32] = []
    /// Index of the first of four children (nil-like -1 for a leaf).
    var firstChild: [Int32] = []
    /// The single point of a leaf holding one point, else -1.
    var point: [Int32] = []
    var nodeCount = 0

    /// Rebuilds the tree over `layout` [N, 2].
    mutating func build(_ layout: UnsafePointer<Float>, count n: Int) {
        var minX = Float.infinity, maxX = -Float.infinity, minY = Float.infinity, maxY = -Float.infinity
        for i in 0..<n {
            minX = min(minX, layout[2 * i]); maxX = max(maxX, layout[2 * i])
            minY = min(minY, layout[2 * i + 1]); maxY = max(maxY, layout[2 * i + 1])
        }
        let half = max(maxX - minX, maxY - minY, 1e-12) / 2 * (1 + 1e-5)
        nodeCount = 0
        _ = addNode(centreX: (minX + maxX) / 2, centreY: (minY + maxY) / 2, halfSide: half)
        for i in 0..<n { insert(Int32(i), x: layout[2 * i], y: layout[2 * i + 1]) }
    }

    private mutating func addNode(centreX cx: Float, centreY cy: Float, halfSide h: Float) -> Int {
        if nodeCount == count.count {
            let grow = max(64, count.count)
            centreX += repeatElement(0, count: grow); centreY += repeatElement(0, count: grow)
            halfSide += repeatElement(0, count: grow); sumX += repeatElement(0, count: grow)
            sumY += repeatElement(0, count: grow); count += repeatElement(0, count: grow)
            firstChild += repeatElement(-1, count: grow); point += repeatElement(-1, count: grow)
        }
        let node = nodeCount
        nodeCount += 1
        centreX[node] = cx; centreY[node] = cy; halfSide[node] = h
        sumX[node] = 0; sumY[node] = 0; count[node] = 0; firstChild[node] = -1; point[node] = -1
        return node
    }

    private func quadrant(_ node: Int, _ x: Float, _ y: Float) -> Int {
        (x >= centreX[node] ? 1 : 0) + (y >= centreY[node] ? 2 : 0)
    }

    private mutating func split(_ node: Int) {
        let h = halfSide[node] / 2
        let first = addNode(centreX: centreX[node] - h, centreY: centreY[node] - h, halfSide: h)
        _ = addNode(centreX: centreX[node] + h, centreY: centreY[node] - h, halfSide: h)
        _ = addNode(centreX: centreX[node] - h, centreY: centreY[node] + h, halfSide: h)
        _ = addNode(centreX: centreX[node] + h, centreY: centreY[node] + h, halfSide: h)
        firstChild[node] = Int32(first)
    }

    private mutating func insert(_ p: Int32, x: Float, y: Float) {
        var node = 0
        var depth = 0
        while true {
            count[node] += 1
            sumX[node] += x
            sumY[node] += y
            if firstChild[node] < 0 {
                if count[node] == 1 { point[node] = p; return }
                if depth >= Self.maximumDepth { point[node] = -1; return }
                // A leaf with one point gets children; the old point moves down one level.
                let old = point[node]
                point[node] = -1
                split(node)
                let oldX = sumX[node] - x, oldY = sumY[node] - y
                let child = Int(firstChild[node]) + quadrant(node, oldX, oldY)
                count[child] = 1; sumX[child] = oldX; sumY[child] = oldY; point[child] = old
            }
            node = Int(firstChild[node]) + quadrant(node, x, y)
            depth += 1
        }
    }
}
