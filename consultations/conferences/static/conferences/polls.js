/* placeholder: the polls engineer's script replaces this file. */
