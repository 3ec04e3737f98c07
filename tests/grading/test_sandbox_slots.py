from grading.sandbox.slots import free_slot


def test_it_gives_programs_running_at_once_different_slots():
    slots = range(4980, 4983)
    with free_slot(slots) as first, free_slot(slots) as second:
        assert first != second
    with free_slot(slots) as again:
        assert again == first


def test_it_says_so_when_every_slot_is_taken():
    import pytest

    only = range(4990, 4991)
    with free_slot(only), pytest.raises(RuntimeError, match="in use"), free_slot(only):
        pass
