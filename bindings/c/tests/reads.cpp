// The callback reads through the C++ wrapper (examples/cpp/seatcore.hpp): seat_status_each
// and seat_map_each hand over the same seats, fields and order as the collecting reads; an
// exception thrown by the callback skips the seats after it and comes out of the call,
// leaving the client usable; an unknown show calls nothing. Exits 0 when every check holds.
//
//   DATABASE_URL=postgres://... ./reads_cpp SHOW_ID
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"

using checks::check;

namespace {
bool same(const seatcore::Seat &a, const seatcore::Seat &b) {
    return a.seat_id == b.seat_id && a.state == b.state && a.hold_expires_at == b.hold_expires_at;
}

bool same(const seatcore::MapSeat &a, const seatcore::MapSeat &b) {
    return a.seat_id == b.seat_id && a.section == b.section && a.row == b.row && a.position == b.position &&
           a.category == b.category && a.accessible == b.accessible && a.rank == b.rank;
}

template <typename T>
bool same(const std::vector<T> &a, const std::vector<T> &b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); i++) {
        if (!same(a[i], b[i])) {
            return false;
        }
    }
    return true;
}
}  // namespace

int main(int argc, char **argv) {
    return checks::run("reads_cpp", argc, argv, "cpp_reads",
                       [](const std::string &url, const std::string &show) {
        seatcore::Client client(url);
        std::vector<seatcore::MapSeat> map;
        for (int row = 0; row < 3; row++) {
            for (int n = 1; n <= 4; n++) {
                seatcore::MapSeat s;
                s.seat_id = std::string(1, static_cast<char>('A' + row)) + std::to_string(n);
                s.section = row == 0 ? "front" : "stalls";
                s.place_from_id = true;
                s.category = n == 1 ? "wheelchair" : "";
                s.accessible = n == 1;
                if (row == 2) {
                    s.rank = 10.0 + n;
                }
                map.push_back(s);
            }
        }
        client.initialize_map(show, map);
        client.hold_seats(show, {"A2", "B3"}, 60);
        client.block_seats(show, {"C4"}, "broken");

        std::vector<seatcore::Seat> streamed;
        seatcore_seat_counts counts =
            client.seat_status_each(show, [&](const seatcore::Seat &s) { streamed.push_back(s); });
        seatcore::ShowStatus status = client.seat_status(show);
        check(same(streamed, status.seats), "seat_status_each: the seats of seat_status");
        check(streamed.size() == 12 && counts.total == 12 && counts.held == 2 && counts.blocked == 1,
              "seat_status_each: the counts");
        check(streamed[1].hold_expires_at.has_value() && !streamed[0].hold_expires_at, "held seats carry expiry");

        std::vector<seatcore::MapSeat> read;
        std::size_t seat_count = client.seat_map_each(show, [&](seatcore::MapSeat s) { read.push_back(std::move(s)); });
        check(same(read, client.seat_map(show)), "seat_map_each: the seats of seat_map");
        check(seat_count == 12 && read[4].row == std::optional<std::string>("B") && read[4].position == 1,
              "seat_map_each: the count and settled places");

        int called = 0;
        try {
            client.seat_status_each(show, [&](const seatcore::Seat &) {
                if (++called == 3) {
                    throw std::runtime_error("enough");
                }
            });
            check(false, "the callback's exception comes out");
        } catch (const std::runtime_error &e) {
            check(std::string(e.what()) == "enough", "the callback's own exception");
        }
        check(called == 3, "no seat after the exception");
        check(client.seat_status(show).seats.size() == 12, "the client reads on");

        called = 0;
        try {
            client.seat_map_each("no_such_show", [&](const seatcore::MapSeat &) { called++; });
            check(false, "an unknown show throws");
        } catch (const seatcore::Error &e) {
            check(e.code() == SEATCORE_SHOW_NOT_FOUND, e.code_name());
        }
        check(called == 0, "an unknown show calls nothing");
        std::cout << "read " << streamed.size() << " seats twice\n";
    });
}
