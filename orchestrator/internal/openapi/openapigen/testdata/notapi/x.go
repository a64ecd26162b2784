package notapi
