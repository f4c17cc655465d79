"""What happens later: the scheduler, its clock, and the push client with its retry policy."""
