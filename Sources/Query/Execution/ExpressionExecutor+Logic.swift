// Comparisons, boolean logic (three-valued), IS NULL, IN, CASE and coalesce.
extension ExpressionExecutor {
    func compare(_ function: ScalarFunction, _ left: Vector, _ right: Vector, count: Int) -> Vector {
        let validity = mergedValidity([left, right], count: count)
        let lu = left.unified, ru = right.unified
        let li = lu.indices ?? [], ri = ru.indices ?? []
        let lFlat = lu.indices == nil, rFlat = ru.indices == nil
        var out = [UInt8](repeating: 0, count: count)

        @inline(__always) func decide(_ order: Int) -> UInt8 {
            switch function {
            case .equal: return order == 0 ? 1 : 0
            case .notEqual: return order != 0 ? 1 : 0
            case .less: return order < 0 ? 1 : 0
            case .lessOrEqual: return order <= 0 ? 1 : 0
            case .greater: return order > 0 ? 1 : 0
            default: return order >= 0 ? 1 : 0
            }
        }

        switch (left.buffer, right.buffer) {
        case let (.int64(a), .int64(b)):
            for row in 0..<count {
                let x = a[lFlat ? row : Int(li[row])], y = b[rFlat ? row : Int(ri[row])]
                out[row] = decide(x < y ? -1 : (x == y ? 0 : 1))
            }
        case let (.double(a), .double(b)):
            for row in 0..<count {
                out[row] = decide(compareDoubles(a[lFlat ? row : Int(li[row])], b[rFlat ? row : Int(ri[row])]))
            }
        case let (.bool(a), .bool(b)):
            for row in 0..<count {
                let x = a[lFlat ? row : Int(li[row])], y = b[rFlat ? row : Int(ri[row])]
                out[row] = decide(x < y ? -1 : (x == y ? 0 : 1))
            }
        case let (.string(a), .string(b)):
            a.bytes.withUnsafeBufferPointer { aBytes in
                b.bytes.withUnsafeBufferPointer { bBytes in
                    let aOffsets = a.offsets, bOffsets = b.offsets
                    for row in 0..<count {
                        let x = lFlat ? row : Int(li[row]), y = rFlat ? row : Int(ri[row])
                        let xs = UnsafeBufferPointer(rebasing: aBytes[Int(aOffsets[x])..<Int(aOffsets[x + 1])])
                        let ys = UnsafeBufferPointer(rebasing: bBytes[Int(bOffsets[y])..<Int(bOffsets[y + 1])])
                        out[row] = decide(compareByteBuffers(xs, ys))
                    }
                }
            }
        default:
            return Vector.constant(.null, type: .boolean, count: count)
        }
        return Vector(type: .boolean, buffer: .bool(out), validity: validity, count: count)
    }

    /// AND / OR with SQL's three-valued logic: FALSE AND NULL is FALSE, TRUE OR NULL is TRUE.
    func logical(isAnd: Bool, _ inputs: [Vector], count: Int) throws -> Vector {
        // Per row: decided (a FALSE for AND, a TRUE for OR), or unknown (a NULL seen).
        var decided = [UInt8](repeating: 0, count: count)
        var unknown = [UInt8](repeating: 0, count: count)
        let decisive: UInt8 = isAnd ? 0 : 1
        for input in inputs {
            guard case .bool(let values) = input.buffer else {
                if input.type == .null { for row in 0..<count { unknown[row] = 1 } }
                continue
            }
            let u = input.unified
            let indices = u.indices ?? []
            let flat = u.indices == nil
            let validity = u.validity
            for row in 0..<count {
                let index = flat ? row : Int(indices[row])
                if let validity, validity[index] == 0 {
                    unknown[row] = 1
                } else if values[index] == decisive {
                    decided[row] = 1
                }
            }
        }
        var out = [UInt8](repeating: 0, count: count)
        var validity: [UInt8]?
        for row in 0..<count {
            if decided[row] != 0 {
                out[row] = decisive
            } else if unknown[row] != 0 {
                if validity == nil { validity = [UInt8](repeating: 1, count: count) }
                validity![row] = 0
            } else {
                out[row] = 1 - decisive
            }
        }
        return Vector(type: .boolean, buffer: .bool(out), validity: validity, count: count)
    }

    func not(_ input: Vector) -> Vector {
        guard case .bool(let values) = input.buffer else { return Vector.constant(.null, type: .boolean, count: input.count) }
        var result = input
        result.buffer = .bool(values.map { 1 - ($0 & 1) })
        result.type = .boolean
        return result
    }

    func isNull(_ input: Vector, negated: Bool) -> Vector {
        let count = input.count
        var out = [UInt8](repeating: negated ? 1 : 0, count: count)
        if input.type == .null {
            return Vector.constant(.bool(!negated), type: .boolean, count: count)
        }
        if let validity = input.validity {
            let u = input.unified
            let indices = u.indices ?? []
            let flat = u.indices == nil
            for row in 0..<count where validity[flat ? row : Int(indices[row])] == 0 { out[row] = negated ? 0 : 1 }
        }
        return Vector(type: .boolean, buffer: .bool(out), validity: nil, count: count)
    }

    /// `x IN (a, b, ...)`: TRUE if any equals; else NULL if x or any element is NULL; else FALSE.
    func inList(_ operand: Vector, _ list: [Vector], negated: Bool) throws -> Vector {
        let count = operand.count
        var any = [UInt8](repeating: 0, count: count)
        var sawNull = [UInt8](repeating: 0, count: count)
        for element in list {
            let equal = compare(.equal, operand, element, count: count)
            guard case .bool(let values) = equal.buffer else {
                for row in 0..<count { sawNull[row] = 1 }
                continue
            }
            for row in 0..<count {
                if let validity = equal.validity, validity[row] == 0 {
                    sawNull[row] = 1
                } else if values[row] != 0 {
                    any[row] = 1
                }
            }
        }
        var out = [UInt8](repeating: 0, count: count)
        var validity: [UInt8]?
        for row in 0..<count {
            if any[row] != 0 {
                out[row] = negated ? 0 : 1
            } else if sawNull[row] != 0 {
                if validity == nil { validity = [UInt8](repeating: 1, count: count) }
                validity![row] = 0
            } else {
                out[row] = negated ? 1 : 0
            }
        }
        return Vector(type: .boolean, buffer: .bool(out), validity: validity, count: count)
    }

    /// Searched CASE. Each result is evaluated only on the rows that take its branch, so a
    /// branch that would fail on other rows (a cast) does not fail the query.
    func caseWhen(_ branches: [(condition: BoundExpression, result: BoundExpression)], otherwise: BoundExpression,
                  type: LogicalType, _ chunk: DataChunk) throws -> Vector {
        let count = chunk.count
        // For each row: which result (branch index, or branches.count for ELSE) and its position there.
        var source = [Int32](repeating: -1, count: count)
        var position = [Int32](repeating: 0, count: count)
        var results: [Vector] = []
        var remaining: [UInt32] = (0..<UInt32(count)).map { $0 }
        for (branchIndex, branch) in branches.enumerated() {
            if remaining.isEmpty { break }
            let subset = remaining.count == count ? chunk : chunk.sliced(remaining)
            let taken = try select(branch.condition, subset)
            if taken.isEmpty { results.append(Vector.constant(.null, type: type, count: 0)); continue }
            let rows = taken.map { remaining[Int($0)] }
            results.append(try evaluate(branch.result, chunk.sliced(rows)))
            for (offset, row) in rows.enumerated() {
                source[Int(row)] = Int32(branchIndex)
                position[Int(row)] = Int32(offset)
            }
            var isTaken = [Bool](repeating: false, count: remaining.count)
            for local in taken { isTaken[Int(local)] = true }
            remaining = remaining.enumerated().filter { !isTaken[$0.offset] }.map(\.element)
        }
        while results.count < branches.count { results.append(Vector.constant(.null, type: type, count: 0)) }
        if !remaining.isEmpty {
            results.append(try evaluate(otherwise, chunk.sliced(remaining)))
            for (offset, row) in remaining.enumerated() {
                source[Int(row)] = Int32(branches.count)
                position[Int(row)] = Int32(offset)
            }
        }
        var builder = VectorBuilder(type: type, capacity: count)
        for row in 0..<count {
            builder.append(results[Int(source[row])], row: Int(position[row]))
        }
        return builder.build()
    }

    /// coalesce(a, b, ...): the first non-NULL argument; later arguments are evaluated only on
    /// the rows still NULL.
    func coalesce(_ arguments: [BoundExpression], type: LogicalType, _ chunk: DataChunk) throws -> Vector {
        let count = chunk.count
        var source = [Int32](repeating: -1, count: count)
        var position = [Int32](repeating: 0, count: count)
        var results: [Vector] = []
        var remaining: [UInt32] = (0..<UInt32(count)).map { $0 }
        for (argumentIndex, argument) in arguments.enumerated() {
            if remaining.isEmpty { break }
            let vector = try evaluate(argument, remaining.count == count ? chunk : chunk.sliced(remaining))
            results.append(vector)
            var stillNull: [UInt32] = []
            for (offset, row) in remaining.enumerated() {
                if vector.isNull(offset) {
                    stillNull.append(row)
                } else {
                    source[Int(row)] = Int32(argumentIndex)
                    position[Int(row)] = Int32(offset)
                }
            }
            remaining = stillNull
        }
        var builder = VectorBuilder(type: type, capacity: count)
        for row in 0..<count {
            if source[row] < 0 { builder.appendNull() } else { builder.append(results[Int(source[row])], row: Int(position[row])) }
        }
        return builder.build()
    }
}
