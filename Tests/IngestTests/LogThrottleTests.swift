import XCTest
@testable import Ingest

final class LogThrottleTests: XCTestCase {
    /// The first occurrence logs, repeats within the interval are counted, and the next line
    /// after it carries the count; keys are independent.
    func testRepeatsAreCountedAndLoggedOncePerInterval() {
        let throttle = LogThrottle(intervalSeconds: 10)
        let second: UInt64 = 1_000_000_000
        XCTAssertEqual(throttle.admit("disk_full", nowNanos: 1 * second).log, true)
        for offset in 0..<20_000 {
            XCTAssertFalse(throttle.admit("disk_full", nowNanos: 1 * second + UInt64(offset)).log)
        }
        XCTAssertTrue(throttle.admit("other", nowNanos: 2 * second).log, "another key is not held back")
        let next = throttle.admit("disk_full", nowNanos: 11 * second)
        XCTAssertTrue(next.log)
        XCTAssertEqual(next.repeats, 20_000)
        XCTAssertFalse(throttle.admit("disk_full", nowNanos: 12 * second).log)
    }
}
