"""Reading AWS: aiobotocore clients and one reader per AWS service; batched, cached, counted."""
