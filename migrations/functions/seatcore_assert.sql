-- Ends the calling statement with an error (SQLSTATE SC001) unless `ok`, rolling back all
-- it wrote: the assertion of a statement that checks what it changed before it commits.
CREATE OR REPLACE FUNCTION seatcore_assert(ok boolean, message text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION USING ERRCODE = 'SC001', MESSAGE = message;
    END IF;
    RETURN true;
END
$$;
