package dev.sinew.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sinew.Generator;
import dev.sinew.Scope;
import dev.sinew.Sinew;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Opens the reference backend and a scope around each test, and checks afterwards that every
 * buffer was released: tests must close the modules and optimisers they make.
 */
public abstract class SinewTestBase {
    protected Sinew sn;
    protected Scope scope;
    protected Generator gen;

    @BeforeEach
    protected void openSinew() {
        sn = Sinew.use("reference");
        scope = sn.scope();
        gen = new Generator(42);
    }

    @AfterEach
    protected void closeSinew() {
        scope.close();
        long live = sn.backend().liveBuffers();
        sn.close();
        assertEquals(0, live, "live buffers left after the test (a module or optimiser not closed?)");
    }
}
