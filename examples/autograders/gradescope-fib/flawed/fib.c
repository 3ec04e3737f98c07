/* A hand-in with a classic mistake: fib is computed in an int, which holds fib(46) but not
 * fib(47) = 2971215073. It passes every test but fib(90), where the sum overflows. */
#include <stdio.h>
#include <stdlib.h>

static int fib(int n) {
    int previous = 0, current = 1;
    for (int i = 0; i < n; i++) {
        int next = previous + current;
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
    printf("%d\n", fib(atoi(argv[1])));
    return 0;
}
