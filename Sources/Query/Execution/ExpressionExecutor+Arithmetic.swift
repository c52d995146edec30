// Numeric kernels, with DuckDB's (2.x) rules: BIGINT arithmetic checks overflow ("Out of
// Range Error"); `/` is IEEE division (x/0 is +-inf, 0/0 NaN); `%` by zero is an error.
extension ExpressionExecutor {
    func arithmetic(_ function: ScalarFunction, _ left: Vector, _ right: Vector, type: LogicalType, count: Int) throws
        -> Vector {
        let validity = mergedValidity([left, right], count: count)
        if type == .double {
            guard case .double(let a) = left.buffer, case .double(let b) = right.buffer else {
                throw QueryError(.internal, "arithmetic on non-DOUBLE buffers")
            }
            let au = left.unified, bu = right.unified
            let ai = au.indices ?? [], bi = bu.indices ?? []
            let aFlat = au.indices == nil, bFlat = bu.indices == nil
            var out = [Double](repeating: 0, count: count)
            var zeroDivisorRows: [Int] = []
            for row in 0..<count {
                let x = a[aFlat ? row : Int(ai[row])], y = b[bFlat ? row : Int(bi[row])]
                switch function {
                case .add: out[row] = x + y
                case .subtract: out[row] = x - y
                case .multiply: out[row] = x * y
                case .divide:
                    out[row] = x / y
                default:
                    if y == 0 { zeroDivisorRows.append(row) } else { out[row] = fmod(x, y) }
                }
            }
            for row in zeroDivisorRows where validity?[row] ?? 1 != 0 {
                throw divisionByZero(a[aFlat ? row : Int(ai[row])], b[bFlat ? row : Int(bi[row])])
            }
            return Vector(type: .double, buffer: .double(out), validity: validity, count: count)
        }
        guard case .int64(let a) = left.buffer, case .int64(let b) = right.buffer else {
            throw QueryError(.internal, "arithmetic on non-BIGINT buffers")
        }
        let au = left.unified, bu = right.unified
        let ai = au.indices ?? [], bi = bu.indices ?? []
        let aFlat = au.indices == nil, bFlat = bu.indices == nil
        var out = [Int64](repeating: 0, count: count)
        var overflowRows: [Int] = []
        var zeroDivisorRows: [Int] = []
        for row in 0..<count {
            let x = a[aFlat ? row : Int(ai[row])], y = b[bFlat ? row : Int(bi[row])]
            let result: (partialValue: Int64, overflow: Bool)
            switch function {
            case .add: result = x.addingReportingOverflow(y)
            case .subtract: result = x.subtractingReportingOverflow(y)
            case .multiply: result = x.multipliedReportingOverflow(by: y)
            default:
                if y == 0 {
                    zeroDivisorRows.append(row)
                    continue
                }
                // Int64.min % -1 overflows in the hardware instruction; the result is 0.
                result = y == -1 ? (0, false) : (x % y, false)
            }
            out[row] = result.partialValue
            if result.overflow { overflowRows.append(row) }
        }
        for row in overflowRows where validity?[row] ?? 1 != 0 {
            let x = a[aFlat ? row : Int(ai[row])], y = b[bFlat ? row : Int(bi[row])]
            throw QueryError(.outOfRange, "Overflow in \(function.name == "*" ? "multiplication" : function.name == "+" ? "addition" : "subtraction") of INT64 (\(x) \(function.name) \(y))!")
        }
        for row in zeroDivisorRows where validity?[row] ?? 1 != 0 {
            throw divisionByZero(a[aFlat ? row : Int(ai[row])], b[bFlat ? row : Int(bi[row])])
        }
        return Vector(type: .bigint, buffer: .int64(out), validity: validity, count: count)
    }

    private func divisionByZero<T>(_ x: T, _ y: T) -> QueryError {
        QueryError(.invalidInput, "Division by zero in expression (\(x) % \(y))")
    }

    func negate(_ input: Vector, count: Int) throws -> Vector {
        let validity = mergedValidity([input], count: count)
        let u = input.unified
        let indices = u.indices ?? []
        let flat = u.indices == nil
        switch input.buffer {
        case .double(let values):
            var out = [Double](repeating: 0, count: count)
            for row in 0..<count { out[row] = -values[flat ? row : Int(indices[row])] }
            return Vector(type: .double, buffer: .double(out), validity: validity, count: count)
        case .int64(let values):
            var out = [Int64](repeating: 0, count: count)
            for row in 0..<count {
                let value = values[flat ? row : Int(indices[row])]
                if value == Int64.min, validity?[row] ?? 1 != 0 {
                    throw QueryError(.outOfRange, "Overflow in negation of INT64 (\(value))!")
                }
                out[row] = 0 &- value
            }
            return Vector(type: .bigint, buffer: .int64(out), validity: validity, count: count)
        default:
            return Vector.constant(.null, type: input.type, count: count)
        }
    }

    /// Applies `transform` to every row of an Int64-backed vector.
    func mapInt64(_ input: Vector, type: LogicalType, count: Int, _ transform: (Int64) -> Int64) -> Vector {
        guard case .int64(let values) = input.buffer else { return Vector.constant(.null, type: type, count: count) }
        if input.isConstant {
            // Once for the whole vector (a column made constant by statistics, a literal).
            return Vector(type: type, buffer: .int64([transform(values[0])]), validity: input.validity, encoding: .constant,
                          count: count)
        }
        let validity = mergedValidity([input], count: count)
        let u = input.unified
        let indices = u.indices ?? []
        let flat = u.indices == nil
        var out = [Int64](repeating: 0, count: count)
        for row in 0..<count { out[row] = transform(values[flat ? row : Int(indices[row])]) }
        return Vector(type: type, buffer: .int64(out), validity: validity, count: count)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
