import XCTest
@testable import Query
final class QuerySmokeTests: XCTestCase { func testLinks() {} }
