/* Prints fib(n) for the n given on the command line: fib(0) = 0, fib(1) = 1, and each next one
 * the sum of the two before. fib(93) is the largest that fits in 64 bits. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define LARGEST_N 93

static uint64_t fib(int n) {
    uint64_t previous = 0, current = 1; /* fib(0), fib(1) */
    for (int i = 0; i < n; i++) {
        uint64_t next = previous + current;
        previous = current;
        current = next;
    }
    return previous;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    char *end;
    long n = strtol(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0' || n < 0 || n > LARGEST_N) {
        fprintf(stderr, "N must be a whole number from 0 to %d\n", LARGEST_N);
        return 2;
    }
    printf("%" PRIu64 "\n", fib((int)n));
    return 0;
}
