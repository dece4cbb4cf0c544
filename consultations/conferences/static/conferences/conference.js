/* placeholder: the conference engineer's script replaces this file. */
