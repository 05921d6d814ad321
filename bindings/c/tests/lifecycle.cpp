// The hold lifecycle through the C++ wrapper (examples/cpp/seatcore.hpp): extend a hold,
// release one of its seats, a refusal carrying the seats the hold lacks, book, cancel, and
// booking the hold again refused. Exits 0 when every check holds.
//
//   DATABASE_URL=postgres://... ./lifecycle_cpp SHOW_ID
#include <string>
#include <vector>

#include "check.hpp"

using checks::check;
using checks::refused;

int main(int argc, char **argv) {
    return checks::run("lifecycle_cpp", argc, argv, "cpp_lifecycle",
                       [](const std::string &url, const std::string &show) {
        seatcore::Options options;
        options.max_hold_life_s = 0;
        auto e = refused([&] { seatcore::Client refused_client(url, options); }, SEATCORE_CONFIG);
        check(std::string(e.what()).find("max_hold_life") != std::string::npos, "the option is named");
        options.max_hold_life_s = 120;
        seatcore::Client client(url, options);
        client.initialize_show(show, {"A1", "A2", "A3", "A4"});
        auto hold = client.hold_seats(show, {"A1", "A2", "A3"}, 60);
        auto extended = client.extend_hold(show, hold.id, 3600);
        check(extended.at_us > hold.at_us, "extended");
        check(extended.at_us - hold.at_us <= 60 * 1000000LL, "capped by the maximum life");
        auto released = client.release_seats(show, hold.id, {"A2"});
        check(released.seat_ids == std::vector<std::string>{"A2"}, "released A2");
        check(released.remaining_seat_ids == std::vector<std::string>{"A1", "A3"}, "kept A1, A3");
        e = refused([&] { client.release_seats(show, hold.id, {"A4", "A1"}); }, SEATCORE_SEATS_NOT_IN_HOLD);
        check(e.seats_not_in_hold() == std::vector<std::string>{"A4"}, "A4 is not in the hold");
        auto booking = client.book_hold(show, hold.id);
        check(booking.seat_ids.size() == 2, "booked two");
        auto cancelled = client.cancel_booking(show, booking.id);
        auto again = client.cancel_booking(show, booking.id);
        check(cancelled.seat_ids == std::vector<std::string>{"A1", "A3"}, "cancelled A1, A3");
        check(again.at == cancelled.at, "the same cancellation");
        refused([&] { client.book_hold(show, hold.id); }, SEATCORE_BOOKING_CANCELLED);
        refused([&] { client.cancel_booking(show, "nope"); }, SEATCORE_BOOKING_NOT_FOUND);
        refused([&] { client.extend_hold(show, hold.id, 60); }, SEATCORE_HOLD_NOT_FOUND);
        auto keyed = client.hold_seats(show, cancelled.seat_ids, 60, std::string("cpp-lifecycle-1"));
        auto retried = client.hold_seats(show, cancelled.seat_ids, 60, std::string("cpp-lifecycle-1"));
        check(retried.id == keyed.id && retried.seat_ids == keyed.seat_ids, "a keyed retry: the same hold");
        client.release_hold(show, keyed.id);
        auto audit = client.audit(show);
        check(audit.summary.ok && audit.summary.held == 0 && audit.summary.booked == 0, "the audit");
        std::cout << "cancelled " << cancelled.id << " at " << cancelled.at << "\n";
    });
}
