// What the C++ test programs share: check(), refused(), and main()'s frame (the database URL
// from DATABASE_URL, the show from the first argument, exit 0 only when every check held).
#ifndef SEATCORE_TESTS_CHECK_HPP
#define SEATCORE_TESTS_CHECK_HPP

#include <cstdlib>
#include <iostream>
#include <string>

#include "seatcore.hpp"

namespace checks {
inline int failures = 0;

inline void check(bool ok, const char *what) {
    if (!ok) {
        std::cerr << "check failed: " << what << "\n";
        failures++;
    }
}

// Runs `f`, which must throw a seatcore::Error with `code`; returns it.
template <typename F>
seatcore::Error refused(F &&f, seatcore_result code) {
    try {
        f();
    } catch (const seatcore::Error &e) {
        check(e.code() == code, e.code_name());
        return e;
    }
    check(false, "no error thrown");
    return seatcore::Error(SEATCORE_OK, "", {}, std::nullopt);
}

// main() of test program `name`: runs `body(url, show)`; a seatcore::Error it throws fails
// the program, as does any failed check.
template <typename F>
int run(const char *name, int argc, char **argv, const char *default_show, F &&body) {
    const char *url = std::getenv("DATABASE_URL");
    if (url == nullptr) {
        std::cerr << name << ": DATABASE_URL is not set\n";
        return 2;
    }
    const std::string show = argc > 1 ? argv[1] : default_show;
    try {
        body(std::string(url), show);
    } catch (const seatcore::Error &e) {
        std::cerr << name << ": " << e.code_name() << ": " << e.what() << "\n";
        return 1;
    }
    if (failures) {
        std::cerr << name << ": " << failures << " checks failed\n";
        return 1;
    }
    std::cout << "OK\n";
    return 0;
}
}  // namespace checks

#endif
